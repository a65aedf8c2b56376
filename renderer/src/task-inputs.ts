/**
 * A task's inputs in the panel: the arguments with every ObjectRef a link to the task that made
 * it (a task's result has the task's id; a `put` value has no task), and a circuit task's
 * OpenQASM program, collapsible and copyable, with its shots, device and parameters.
 */
import type { ArgumentRef, CircuitInput } from './api-types.ts';
import { h } from './dom.ts';
import { shortId } from './short-id.ts';

const REF = /ObjectRef\(([0-9a-f]{8,64})\)/g;

/**
 * The arguments text with each `ObjectRef(id)` made a button that opens the task behind it.
 * `nameOf` names tasks the dashboard holds (refs the head did not resolve, in a replay).
 */
export function argumentsView(
  args: unknown,
  refs: readonly ArgumentRef[] | undefined,
  nameOf: (id: string) => string | undefined,
  open: (taskId: string) => void,
): HTMLElement {
  const text = args === undefined ? '(none recorded)' : typeof args === 'string' ? args : JSON.stringify(args, null, 2);
  const box = h('pre', { class: 'result-json', 'data-testid': 'task-args' });
  const byId = new Map((refs ?? []).map((r) => [r.id, r]));
  let at = 0;
  for (const m of text.slice(0, 20_000).matchAll(REF)) {
    box.append(text.slice(at, m.index));
    at = m.index + m[0].length;
    const id = m[1]!;
    const known = byId.get(id);
    const name = known?.name ?? nameOf(id);
    if (known?.taskId || name !== undefined)
      box.append(
        h(
          'button',
          {
            type: 'button',
            class: 'arg-ref',
            'data-ref-task': id,
            title: `The result of task ${name ?? ''} ${id}: open that task`,
            onclick: () => open(id),
          },
          `ObjectRef(${name ?? 'task'} ${shortId(id)})`,
        ),
      );
    else box.append(h('span', { class: 'arg-ref-put', title: `${id}: a put() value, not a task's result` }, m[0]));
  }
  box.append(text.slice(at, 20_000));
  return box;
}

/** The circuit block: a summary line (lines, shots, device, parameters) over the QASM, open by default. */
export function circuitView(c: CircuitInput): HTMLElement {
  const lines = c.source.replace(/\r?\n$/, '').split(/\r?\n/).length;
  const params = c.params ? Object.entries(c.params) : [];
  const source = h('pre', { class: 'result-json qasm-source', 'data-testid': 'task-qasm' }, c.source);
  const copy = h(
    'button',
    {
      type: 'button',
      class: 'copy-id',
      'data-testid': 'copy-qasm',
      title: 'Copy the OpenQASM program',
      onclick: (e: Event) => {
        e.preventDefault();
        const done = navigator.clipboard?.writeText(c.source) ?? Promise.reject(new Error('no clipboard'));
        void done.then(
          () => (copy.textContent = 'copied'),
          () => {
            const range = document.createRange();
            range.selectNodeContents(source);
            getSelection()?.removeAllRanges();
            getSelection()?.addRange(range);
            copy.textContent = 'selected: press Ctrl+C';
          },
        );
      },
    },
    'copy',
  );
  return h(
    'details',
    { class: 'task-circuit', open: true, 'data-testid': 'task-circuit' },
    h(
      'summary',
      {},
      h('strong', {}, 'Circuit'),
      ` OpenQASM, ${lines} line${lines === 1 ? '' : 's'}`,
      c.shots !== undefined ? ` · ${c.shots.toLocaleString('en-US')} shots` : '',
      c.device ? ` · device ${c.device}` : '',
      c.seed !== undefined ? ` · seed ${c.seed}` : '',
      copy,
    ),
    params.length
      ? h(
          'div',
          { class: 'plot-caption', 'data-testid': 'task-qasm-params' },
          `parameters: ${params.map(([k, v]) => `${k} = ${v}`).join(', ')}`,
        )
      : null,
    source,
  );
}
