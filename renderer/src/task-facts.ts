/**
 * A task's facts (`info`: what it recorded with recordTaskInfo, as a quantum runner does: job id,
 * device, queue position, cost) as the task panel shows them, known keys first and in words.
 * The panel redraws them when the live feed brings new values (a queue position that moves).
 */
import { h, replace } from './dom.ts';
import { copyButton } from './short-id.ts';

type Info = Readonly<Record<string, string | number | boolean>>;

/** Known keys in the order they are shown, with their labels and formats. */
const KNOWN: readonly [string, string, ((v: string | number | boolean) => string)?][] = [
  ['jobId', 'job id'],
  ['device', 'device'],
  ['jobStatus', 'job status'],
  ['queuePosition', 'queue position', (v) => (v === 0 ? 'running (left the queue)' : `#${String(v)} in the queue`)],
  ['costUsd', 'cost', (v) => (typeof v === 'number' ? `$${v < 0.01 ? v.toPrecision(2) : v.toFixed(2)}` : String(v))],
  ['estimatedCostUsd', 'estimated cost', (v) => (typeof v === 'number' ? `$${v.toFixed(2)}` : String(v))],
  ['shots', 'shots'],
  ['swaps', 'swaps added'],
];

/** The facts box; empty (hidden) when the task recorded none. */
export function taskFacts(info: Info | undefined): HTMLElement {
  const box = h('div', { class: 'task-info-facts', 'data-testid': 'task-info' });
  updateTaskFacts(box, info);
  return box;
}

/** Redraws the facts box with `info` (no change when the text is the same). */
export function updateTaskFacts(box: HTMLElement, info: Info | undefined): void {
  const key = JSON.stringify(info ?? {});
  if (box.dataset.shown === key) return;
  box.dataset.shown = key;
  const entries = Object.entries(info ?? {});
  box.hidden = entries.length === 0;
  const known = new Map(KNOWN.map(([k, label, fmt]) => [k, { label, fmt }]));
  const order = [
    ...KNOWN.map(([k]) => k).filter((k) => info && k in info),
    ...entries.map(([k]) => k).filter((k) => !known.has(k)),
  ];
  replace(
    box,
    h('h3', {}, 'Task facts'),
    ...order.map((k) => {
      const v = info![k]!;
      const how = known.get(k);
      const text = how?.fmt ? how.fmt(v) : String(v);
      return h(
        'div',
        { class: 'kv', 'data-fact': k },
        h('span', { class: 'k', title: k }, how?.label ?? k),
        h('span', {}, h('span', { class: 'v' }, text), k === 'jobId' ? copyButton(String(v)) : null),
      );
    }),
  );
}
