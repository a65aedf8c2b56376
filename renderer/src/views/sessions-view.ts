/**
 * Sessions tab: recorded sessions with their titles, notes and tags (Edit; a filter over them),
 * Open (a read-only replay in the graph and tables), Export (download), Resume (the command to
 * run), and a comparison of two or more sessions (ticked in the list or picked below).
 */
import type { App, View } from '../app.ts';
import type { JobsReply, MultiSessionComparison, SessionNodeRow, SessionRow, TaskView } from '../api-types.ts';
import { formatTime, h, replace } from '../dom.ts';
import { api, downloadUrl } from '../head-client.ts';
import { TaskStore } from '../task-store.ts';
import { SessionCompareView } from './session-compare-view.ts';
import { editLabels, labelCell, matchesFilter } from './session-labels.ts';

type Row = Record<string, unknown>;
const PAGE = 5000;
/** Most sessions one comparison takes (the head's MAX_COMPARED_SESSIONS). */
const MAX_COMPARED = 8;

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
  private readonly filter = h('input', {
    type: 'search',
    placeholder: 'filter: words, tag:NAME',
    'aria-label': 'Filter sessions',
    'data-testid': 'sessions-filter',
  });
  private readonly shown = h('span', { class: 'hint', 'data-testid': 'sessions-shown' });
  /** The compare pickers, baseline first; the first two always exist (testids compare-a, compare-b). */
  private readonly pickers: HTMLSelectElement[] = [];
  private readonly pickerBox = h('span', { class: 'pickers' });
  private readonly out = new SessionCompareView();
  private readonly message = h('div', { class: 'message', role: 'status', 'data-testid': 'sessions-message' });
  private rows: SessionRow[] = [];
  private current = '';
  /** Sessions ticked in the list, in the order they were ticked (the first is the baseline). */
  private ticked: string[] = [];

  constructor(private readonly app: App) {
    this.filter.oninput = () => this.draw();
    this.addPicker();
    this.addPicker();
    this.element = h(
      'section',
      { class: 'sessions-view' },
      h('h2', {}, 'Sessions'),
      this.message,
      h('div', { class: 'toolbar' }, this.filter, this.shown),
      h(
        'table',
        { class: 'grid', 'aria-label': 'Sessions' },
        h(
          'thead',
          {},
          h('tr', {}, ...['', 'name', 'status', 'started', 'ended', 'tasks', 'cost', ''].map((c) => h('th', {}, c))),
        ),
        this.list,
      ),
      h('h2', {}, 'Compare'),
      h(
        'div',
        { class: 'toolbar' },
        this.pickerBox,
        h(
          'button',
          {
            'aria-label': 'Add session',
            title: 'Compare one more session',
            'data-testid': 'compare-add',
            onclick: () => this.addPicker(),
          },
          '+ session',
        ),
        h('button', { class: 'primary', onclick: () => void this.compare() }, 'Compare'),
        h('span', { class: 'hint' }, 'or tick sessions in the list; the first is the baseline'),
      ),
      this.out.element,
    );
  }

  show(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.rows = await api<SessionRow[]>('sessions');
      const c = await api<{ name: string } | string>('session').catch(() => '');
      this.current = typeof c === 'string' ? c : c.name;
    } catch (err) {
      this.message.textContent = `Cannot list sessions: ${(err as Error).message}`;
      return;
    }
    const names = this.rows.map((r) => r.name);
    this.ticked = this.ticked.filter((n) => names.includes(n));
    this.draw();
    for (const sel of this.pickers) this.fillPicker(sel);
    const [a, b] = this.pickers;
    if (a && b && (!b.value || b.value === a.value)) b.value = names.find((n) => n !== a.value) ?? names[0] ?? '';
  }

  /** Draws the list as filtered. */
  private draw(): void {
    const q = this.filter.value;
    const rows = this.rows.filter((r) => matchesFilter(r, q));
    this.shown.textContent = q.trim() ? `${rows.length} of ${this.rows.length} sessions` : '';
    replace(this.list, ...rows.map((r) => this.row(r)));
  }

  private row(r: SessionRow): HTMLElement {
    const name = r.name;
    const failed = r.taskCounts.FAILED ?? 0;
    const tick = h('input', {
      type: 'checkbox',
      'aria-label': `Select ${name} to compare`,
      checked: this.ticked.includes(name),
    });
    tick.onchange = () => this.tick(name, tick.checked);
    return h(
      'tr',
      { 'data-session': name },
      h('td', { class: 'tick' }, tick),
      labelCell(
        r,
        (tag) => {
          this.filter.value = `tag:${tag}`;
          this.draw();
        },
        name === this.current ? h('span', { class: 'chip' }, 'current') : null,
      ),
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
        { 'data-col': 'cost', class: 'num', title: 'US dollars its tasks reported (costUsd)' },
        r.costUsd === undefined ? '–' : `$${r.costUsd.toFixed(r.costUsd < 1 ? 4 : 2)}`,
      ),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'actions' },
          h('button', { onclick: () => void this.open(name) }, 'Open'),
          h(
            'button',
            {
              disabled: r.status === 'unreadable',
              title: 'Title, notes and tags',
              onclick: () => editLabels(this.app, r, () => void this.load()),
            },
            'Edit',
          ),
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
      ),
    );
  }

  /** A tick in the list: the ticked sessions, in tick order, become the compare pickers once two are ticked. */
  private tick(name: string, on: boolean): void {
    this.ticked = on ? [...this.ticked.filter((n) => n !== name), name] : this.ticked.filter((n) => n !== name);
    if (this.ticked.length < 2) return;
    while (this.pickers.length < this.ticked.length) this.addPicker();
    while (this.pickers.length > Math.max(2, this.ticked.length)) this.removePicker(this.pickers.length - 1);
    this.ticked.forEach((n, i) => {
      this.pickers[i]!.value = n;
    });
  }

  private fillPicker(sel: HTMLSelectElement): void {
    const v = sel.value;
    replace(sel, ...this.rows.map((r) => h('option', { value: r.name }, r.title ? `${r.title} (${r.name})` : r.name)));
    if (this.rows.some((r) => r.name === v)) sel.value = v;
  }

  private addPicker(): void {
    if (this.pickers.length >= MAX_COMPARED) return;
    const i = this.pickers.length;
    const letter = String.fromCharCode(65 + i);
    const sel = h('select', {
      'aria-label': `Compare session ${letter}`,
      'data-testid': `compare-${letter.toLowerCase()}`,
    });
    this.fillPicker(sel);
    const used = new Set(this.pickers.map((p) => p.value));
    const free = this.rows.find((r) => !used.has(r.name));
    if (free) sel.value = free.name;
    this.pickers.push(sel);
    this.drawPickers();
  }

  private removePicker(i: number): void {
    if (this.pickers.length <= 2) return;
    this.pickers.splice(i, 1);
    this.pickers.forEach((p, j) => {
      const letter = String.fromCharCode(65 + j);
      p.setAttribute('aria-label', `Compare session ${letter}`);
      p.dataset.testid = `compare-${letter.toLowerCase()}`;
    });
    this.drawPickers();
  }

  private drawPickers(): void {
    replace(
      this.pickerBox,
      ...this.pickers.flatMap((p, i) => [
        i === 0 ? null : h('span', {}, 'vs'),
        p,
        i >= 2
          ? h(
              'button',
              {
                class: 'link',
                'aria-label': `Remove session ${String.fromCharCode(65 + i)}`,
                onclick: () => this.removePicker(i),
              },
              '×',
            )
          : null,
      ]),
    );
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
    const names = this.pickers.map((p) => p.value).filter((v, i, all) => v && all.indexOf(v) === i);
    if (names.length < 2) {
      this.out.showError('Pick two or more different sessions to compare.');
      return;
    }
    try {
      this.out.show(
        await api<MultiSessionComparison>(
          `sessions/compare?${names.map((n) => `s=${encodeURIComponent(n)}`).join('&')}`,
        ),
      );
    } catch (err) {
      this.out.showError(`Cannot compare: ${(err as Error).message}`);
    }
  }
}
