/**
 * Tables of tasks (from the event stream, or a replayed session), actors and objects (polled
 * from the API), with a state filter and a search box; virtualised for 100,000 rows.
 */
import type { App, View } from '../app.ts';
import { TASK_STATES, type TaskView } from '../api-types.ts';
import { duration, h, STATE_COLOURS } from '../dom.ts';
import { api } from '../head-client.ts';
import { openTask } from '../task-panel.ts';
import { shortId } from '../short-id.ts';
import { VirtualTable, type Column } from '../virtual-table.ts';
import { BulkActions } from './bulk-actions.ts';

type Row = Record<string, unknown>;
const REFILTER_MS = 200;
const POLL_MS = 2000;
/** The objects table: where each value is (the node that made it, then copies fetched directly) and the bytes it moved, direct and through the head. */
const OBJECT_COLUMNS = [
  'objectId',
  'state',
  'sizeBytes',
  'location',
  'locations',
  'directBytes',
  'relayBytes',
  'refCount',
];

const TASK_COLUMNS: Column<TaskView>[] = [
  // Ids of one run share their start: show the end, the full id in the tooltip.
  { label: 'id', width: '9rem', text: (t) => shortId(t.id), title: (t) => t.id },
  { label: 'name', width: 'minmax(8rem,1fr)', text: (t) => t.name },
  { label: 'kind', width: '7rem', text: (t) => t.kind },
  { label: 'state', width: '13rem', text: (t) => t.state, colour: (t) => STATE_COLOURS[t.state] },
  { label: 'backend', width: '7rem', text: (t) => t.backend ?? '' },
  { label: 'node', width: '9rem', text: (t) => shortId(t.nodeId), title: (t) => t.nodeId ?? '' },
  { label: 'attempt', width: '4rem', text: (t) => String(t.attempt) },
  { label: 'ran', width: '6rem', text: (t) => (t.startedAt && t.endedAt ? duration(t.endedAt - t.startedAt) : '') },
];

function rowColumns(keys: string[]): Column<Row>[] {
  return keys.map((k) => ({
    label: k,
    width: 'minmax(6rem,1fr)',
    text: (r: Row) => {
      const v = typeof r[k] === 'object' && r[k] !== null ? JSON.stringify(r[k]) : String(r[k] ?? '');
      if (k === 'locations') return v.split(',').filter(Boolean).map(shortId).join(', ');
      return /Id$/.test(k) ? shortId(v) : v;
    },
    title: (r: Row) => (typeof r[k] === 'object' && r[k] !== null ? JSON.stringify(r[k]) : String(r[k] ?? '')),
  }));
}

/** The tables tab. */
export class TablesView implements View {
  readonly id = 'tables';
  readonly title = 'Tables';
  readonly element: HTMLElement;
  private which: 'tasks' | 'actors' | 'objects' = 'tasks';
  private readonly search = h('input', {
    type: 'search',
    placeholder: 'Search name or id',
    'aria-label': 'Search',
    oninput: () => this.refilter(true),
  });
  private readonly stateFilter = h(
    'select',
    { 'aria-label': 'State filter', onchange: () => this.refilter(true) },
    h('option', { value: '' }, 'any state'),
    ...TASK_STATES.map((s) => h('option', { value: s }, s)),
  );
  private readonly count = h('span', { class: 'count', 'data-testid': 'table-count' });
  /** Tasks picked with the checkboxes, by id (bulk-actions.ts acts on them). */
  private readonly picked = new Set<string>();
  private readonly tasks = new VirtualTable<TaskView>(
    TASK_COLUMNS,
    (t) => void openTask(this.app, t.id, this.app.shown.replayOf),
    'Tasks',
    { key: (t) => t.id, picked: this.picked, changed: () => this.bulk.update() },
  );
  private readonly bulk: BulkActions;
  private other: VirtualTable<Row> | undefined;
  private otherRows: Row[] = [];
  private readonly host = h('div', { class: 'table-host' });
  private filteredAt = { version: -1, time: 0 };
  private timer: number | undefined;
  private deferred = false;

  constructor(private readonly app: App) {
    this.bulk = new BulkActions(app, this.picked, () => this.tasks.refreshChecks());
    const tab = (w: 'tasks' | 'actors' | 'objects') =>
      h('button', { class: 'subtab', 'data-table': w, onclick: () => this.switchTo(w) }, w);
    this.element = h(
      'section',
      { class: 'tables-view' },
      h(
        'div',
        { class: 'toolbar' },
        tab('tasks'),
        tab('actors'),
        tab('objects'),
        this.stateFilter,
        this.search,
        this.count,
      ),
      this.bulk.element,
      this.host,
    );
    this.host.append(this.tasks.element);
    app.live.onChange(() => this.refilter(false));
    app.onShownChange(() => {
      if (!this.element.hidden) this.refilter(true);
    });
  }

  show(): void {
    this.switchTo(this.which);
  }

  private switchTo(w: 'tasks' | 'actors' | 'objects'): void {
    this.which = w;
    for (const b of this.element.querySelectorAll<HTMLElement>('.subtab'))
      b.classList.toggle('active', b.dataset.table === w);
    this.stateFilter.hidden = w !== 'tasks';
    if (w !== 'tasks') this.bulk.element.hidden = true;
    clearInterval(this.timer);
    if (w === 'tasks') {
      this.host.replaceChildren(this.tasks.element);
      this.refilter(true);
      return;
    }
    const poll = async () => {
      if (this.element.hidden || this.which !== w) return clearInterval(this.timer);
      this.otherRows = await api<Row[]>(w).catch(() => []);
      const keys =
        w === 'objects'
          ? OBJECT_COLUMNS
          : [...new Set(this.otherRows.slice(0, 50).flatMap((r) => Object.keys(r)))].slice(0, 8);
      if (!this.other || this.other.element.dataset.keys !== keys.join()) {
        this.other = new VirtualTable<Row>(
          rowColumns(keys),
          (r) =>
            this.app.openPanel(
              String(r.actorId ?? r.objectId ?? w),
              h('pre', { class: 'result-json' }, JSON.stringify(r, null, 2)),
            ),
          w,
        );
        this.other.element.dataset.keys = keys.join();
        this.host.replaceChildren(this.other.element);
      }
      this.refilter(true);
    };
    void poll();
    this.timer = window.setInterval(() => void poll(), POLL_MS);
  }

  private refilter(force: boolean): void {
    const store = this.app.shown;
    const now = performance.now();
    if (this.element.hidden && !force) return;
    if (!force && (store.version === this.filteredAt.version || now - this.filteredAt.time < REFILTER_MS)) {
      if (store.version !== this.filteredAt.version && !this.deferred) {
        this.deferred = true;
        window.setTimeout(() => {
          this.deferred = false;
          this.refilter(false);
        }, REFILTER_MS);
      }
      return;
    }
    this.filteredAt = { version: store.version, time: now };
    const q = this.search.value.trim().toLowerCase();
    if (this.which === 'tasks') {
      const state = this.stateFilter.value;
      const rows: TaskView[] = [];
      for (const t of store.tasks.values()) {
        if (state && t.state !== state) continue;
        if (q && !t.name.toLowerCase().includes(q) && !t.id.toLowerCase().includes(q)) continue;
        rows.push(t);
      }
      this.tasks.setRows(rows);
      this.bulk.update();
      this.count.textContent = `${rows.length} of ${store.order.length} tasks`;
    } else if (this.other) {
      const rows = q ? this.otherRows.filter((r) => JSON.stringify(r).toLowerCase().includes(q)) : this.otherRows;
      this.other.setRows(rows);
      this.count.textContent = `${rows.length} of ${this.otherRows.length} ${this.which}`;
    }
  }
}
