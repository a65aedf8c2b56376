/**
 * Sessions tab: recorded sessions with Open (a read-only replay in the graph and tables),
 * Export (download), Resume (the command to run), and a comparison of two sessions.
 */
import type { App, View } from '../app.ts';
import type { JobsReply, SessionComparison, SessionNodeRow, SessionRow, TaskView } from '../api-types.ts';
import { formatTime, h, replace } from '../dom.ts';
import { api, downloadUrl } from '../head-client.ts';
import { TaskStore } from '../task-store.ts';
import { CompareTable } from './compare-table.ts';
import { CompareCurves } from './compare-curves.ts';

type Row = Record<string, unknown>;
const PAGE = 5000;

/** Reads a recorded task row (either the dashboard's TaskView or a session's own columns). */
function toTaskView(r: Row): TaskView {
  const num = (v: unknown) =>
    typeof v === 'number' ? v : typeof v === 'string' && v ? Date.parse(v) || Number(v) || undefined : undefined;
  return {
    id: String(r.id ?? r.taskId),
    name: String(r.name ?? ''),
    kind: (r.kind ?? 'function') as TaskView['kind'],
    state: (r.state ?? 'FINISHED') as TaskView['state'],
    nodeId: (r.nodeId as string) || undefined,
    backend: (r.backend as string) || undefined,
    parentId: (r.parentId as string) || undefined,
    deps: Array.isArray(r.deps) ? (r.deps as string[]) : [],
    actorId: (r.actorId as string) || undefined,
    ruleIndex: (r.ruleIndex as number | undefined) ?? undefined,
    attempt: Number(r.attempt ?? 0),
    submittedAt: num(r.submittedAt) ?? 0,
    startedAt: num(r.startedAt),
    endedAt: num(r.endedAt),
    errorName: (r.errorName as string) || undefined,
    jobId: (r.jobId as string) || undefined,
  };
}

/** Loads every task of a session, page by page, and the nodes it recorded, into a replay store. */
export async function loadSession(name: string): Promise<TaskStore> {
  const store = new TaskStore(name);
  store.recordedNodes = await api<SessionNodeRow[]>(`sessions/${encodeURIComponent(name)}/nodes`);
  const all: TaskView[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const r = await api<Row[] | { tasks: Row[] }>(
      `sessions/${encodeURIComponent(name)}/tasks?offset=${offset}&limit=${PAGE}`,
    );
    const rows = Array.isArray(r) ? r : r.tasks;
    all.push(...rows.map(toTaskView));
    if (rows.length < PAGE) break;
  }
  store.reset(all, []);
  const runs = await api<JobsReply>(`sessions/${encodeURIComponent(name)}/jobs`).catch(() => undefined);
  if (runs) store.runs.reset(runs.jobs, runs.metrics);
  return store;
}

/** The sessions tab. */
export class SessionsView implements View {
  readonly id = 'sessions';
  readonly title = 'Sessions';
  readonly element: HTMLElement;
  private readonly list = h('tbody', {});
  private readonly a = h('select', { 'aria-label': 'Compare session A', 'data-testid': 'compare-a' });
  private readonly b = h('select', { 'aria-label': 'Compare session B', 'data-testid': 'compare-b' });
  private readonly out = new CompareTable();
  private readonly curves = new CompareCurves();
  private readonly message = h('div', { class: 'message', role: 'status', 'data-testid': 'sessions-message' });

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'sessions-view' },
      h('h2', {}, 'Sessions'),
      this.message,
      h(
        'table',
        { class: 'grid', 'aria-label': 'Sessions' },
        h('thead', {}, h('tr', {}, ...['name', 'status', 'started', 'ended', 'tasks', ''].map((c) => h('th', {}, c)))),
        this.list,
      ),
      h('h2', {}, 'Compare'),
      h(
        'div',
        { class: 'toolbar' },
        this.a,
        h('span', {}, 'vs'),
        this.b,
        h('button', { onclick: () => void this.compare() }, 'Compare'),
      ),
      this.out.element,
      this.curves.element,
    );
  }

  show(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    let rows: SessionRow[];
    let current = '';
    try {
      rows = await api<SessionRow[]>('sessions');
      const c = await api<{ name: string } | string>('session').catch(() => '');
      current = typeof c === 'string' ? c : c.name;
    } catch (err) {
      this.message.textContent = `Cannot list sessions: ${(err as Error).message}`;
      return;
    }
    const names = rows.map((r) => r.name);
    replace(
      this.list,
      ...rows.map((r) => {
        const name = r.name;
        const failed = r.taskCounts.FAILED ?? 0;
        return h(
          'tr',
          { 'data-session': name },
          h('td', {}, name, name === current ? h('span', { class: 'chip' }, 'current') : null),
          h('td', { title: r.error ?? '' }, r.status),
          h(
            'td',
            {
              'data-col': 'started',
              title: Number.isFinite(r.createdAt) ? new Date(r.createdAt).toISOString() : undefined,
            },
            formatTime(r.createdAt),
          ),
          h('td', { 'data-col': 'ended' }, formatTime(r.endedAt)),
          h(
            'td',
            { 'data-col': 'tasks', class: 'num' },
            r.status === 'unreadable' ? '–' : `${r.totalTasks}${failed ? ` (${failed} failed)` : ''}`,
          ),
          h(
            'td',
            { class: 'actions' },
            h('button', { onclick: () => void this.open(name) }, 'Open'),
            h(
              'a',
              {
                class: 'button',
                href: downloadUrl(`sessions/${encodeURIComponent(name)}/export`),
                download: `${name}.tar`,
              },
              'Export',
            ),
            h('button', { onclick: () => this.resume(name) }, 'Resume'),
          ),
        );
      }),
    );
    for (const sel of [this.a, this.b]) {
      const v = sel.value;
      replace(sel, ...names.map((n) => h('option', { value: n }, n)));
      if (names.includes(v)) sel.value = v;
    }
    if (!this.b.value || this.b.value === this.a.value) this.b.value = names[1] ?? names[0] ?? '';
  }

  private async open(name: string): Promise<void> {
    this.message.textContent = `Loading ${name}…`;
    try {
      const store = await loadSession(name);
      this.app.setShown(store);
      this.message.textContent = `Opened ${name}: ${store.order.length} tasks (see Task graph and Tables).`;
    } catch (err) {
      this.message.textContent = `Cannot open ${name}: ${(err as Error).message}`;
    }
  }

  private resume(name: string): void {
    const cmd = `orrery start --resume ${name}`;
    this.app.openPanel(
      `Resume ${name}`,
      h('p', {}, 'Run this in a terminal (stop the running head first with orrery stop):'),
      h('pre', { class: 'command', 'data-testid': 'resume-command', tabindex: 0 }, cmd),
      h('button', { onclick: () => void navigator.clipboard?.writeText(cmd).catch(() => undefined) }, 'Copy'),
    );
  }

  private async compare(): Promise<void> {
    try {
      this.out.show(
        await api<SessionComparison>(
          `sessions/compare?a=${encodeURIComponent(this.a.value)}&b=${encodeURIComponent(this.b.value)}`,
        ),
      );
      void this.curves.show([this.a.value, this.b.value]);
    } catch (err) {
      this.out.showError(`Cannot compare: ${(err as Error).message}`);
    }
  }
}
