/**
 * A task group's panel: counts by state and backend, run times (min, median, p95, max),
 * failures grouped by error name with links to the failed tasks, and the slowest tasks as
 * links to their panels, instead of a list of bare ids.
 */
import { TASK_STATES, type TaskView } from '../api-types.ts';
import type { App } from '../app.ts';
import { backendColour, duration, h, STATE_COLOURS } from '../dom.ts';
import type { TaskGroup } from '../graph-groups.ts';
import { shortId } from '../short-id.ts';
import { openTask } from '../task-panel.ts';

/** Slowest tasks listed, and failed tasks linked per error name. */
const SLOWEST = 10;
const FAILED_LINKS = 5;

/** Run time of a task that started and ended. */
function ran(t: TaskView): number | undefined {
  return t.startedAt !== undefined && t.endedAt !== undefined ? t.endedAt - t.startedAt : undefined;
}

function pick(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** The panel content for group `g` of the app's shown store; `actions` go at the top (expand/collapse). */
export function groupSummary(app: App, g: TaskGroup, ...actions: Node[]): HTMLElement {
  const store = app.shown;
  const session = store.replayOf;
  const link = (t: TaskView, text: string) =>
    h('button', { class: 'link', title: t.id, onclick: () => void openTask(app, t.id, session) }, text);
  const tasks = g.ids.map((id) => store.tasks.get(id)!);
  const times: { t: TaskView; ms: number }[] = [];
  for (const t of tasks) {
    const ms = ran(t);
    if (ms !== undefined) times.push({ t, ms });
  }
  const sorted = times.map((x) => x.ms).sort((a, b) => a - b);
  // Counted from the tasks now, not from the layout's grouping (which may be 250 ms old).
  const states = TASK_STATES.map((s) => tasks.filter((t) => t.state === s).length);
  const backends = new Map<string, number>();
  for (const t of tasks) backends.set(t.backend ?? '', (backends.get(t.backend ?? '') ?? 0) + 1);
  const failures = new Map<string, TaskView[]>();
  for (const t of tasks) {
    if (t.state !== 'FAILED') continue;
    const name = t.errorCause ? `${t.errorCause} (${t.errorName})` : t.errorName || 'unknown error';
    const list = failures.get(name) ?? [];
    list.push(t);
    failures.set(name, list);
  }
  const slowest = [...times].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST);
  return h(
    'div',
    { class: 'group-summary', 'data-testid': 'group-summary' },
    h('div', { class: 'toolbar' }, ...actions),
    h(
      'p',
      {},
      `${g.ids.length} task${g.ids.length === 1 ? '' : 's'} named `,
      h('code', {}, g.name),
      `, iteration ${g.iteration}${g.jobId ? ` of run ${shortId(g.jobId)}` : ''}.`,
    ),
    h('h3', {}, 'States'),
    h(
      'div',
      { class: 'legend' },
      ...TASK_STATES.map((s, i) =>
        states[i]
          ? h(
              'span',
              { class: 'chip', style: `border-color:${STATE_COLOURS[s]}` },
              `${s} `,
              h('b', { 'data-testid': `group-state-${s}` }, String(states[i])),
            )
          : null,
      ),
    ),
    h('h3', {}, 'Backends'),
    h(
      'div',
      { class: 'legend' },
      ...[...backends].map(([b, n]) =>
        h(
          'span',
          { class: 'chip', style: `border-color:${backendColour(b || undefined)}` },
          `${b || 'unplaced'} `,
          h('b', {}, String(n)),
        ),
      ),
    ),
    h('h3', {}, 'Run time'),
    sorted.length
      ? h(
          'table',
          { class: 'group-durations', 'data-testid': 'group-durations' },
          h('tr', {}, ...['min', 'median', 'p95', 'max'].map((k) => h('th', {}, k))),
          h(
            'tr',
            {},
            ...[sorted[0]!, pick(sorted, 0.5), pick(sorted, 0.95), sorted[sorted.length - 1]!].map((ms, i) =>
              h('td', { 'data-testid': `group-duration-${['min', 'median', 'p95', 'max'][i]}` }, duration(ms)),
            ),
          ),
        )
      : h('p', { class: 'count' }, 'No task of this group has finished running yet.'),
    h('p', { class: 'count' }, `${sorted.length} of ${g.ids.length} tasks ran to an end.`),
    failures.size ? h('h3', {}, 'Failures') : null,
    failures.size
      ? h(
          'ul',
          { class: 'group-list', 'data-testid': 'group-failures' },
          ...[...failures].map(([name, list]) =>
            h(
              'li',
              {},
              h('b', {}, name),
              ` ×${list.length}: `,
              ...list.slice(0, FAILED_LINKS).flatMap((t, i) => [i ? ', ' : '', link(t, shortId(t.id))]),
              list.length > FAILED_LINKS ? ` and ${list.length - FAILED_LINKS} more` : '',
            ),
          ),
        )
      : null,
    slowest.length ? h('h3', {}, 'Slowest tasks') : null,
    slowest.length
      ? h(
          'ol',
          { class: 'group-list', 'data-testid': 'group-slowest' },
          ...slowest.map(({ t, ms }) =>
            h(
              'li',
              {},
              link(t, `${t.name} ${shortId(t.id)}`),
              ` ${duration(ms)}${t.nodeId ? ` on ${shortId(t.nodeId)}` : ''}`,
            ),
          ),
        )
      : null,
  );
}
