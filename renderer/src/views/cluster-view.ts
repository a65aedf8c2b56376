/**
 * Cluster tab: nodes grouped by backend with resources, what is free and labels; CPU usage and
 * pending tasks over time (a canvas chart from the event stream's usage samples); usage per
 * node over time (CPU, memory, GPUs, QPU slots: the head's history, so a reload shows it, or a
 * replayed session's); cost so far per backend; and the pending / infeasible demand from /api/status.
 */
import type { App, View } from '../app.ts';
import type { CostSummary, NodeRow, NodeUsageSample, SessionNodeRow, UsageSample } from '../api-types.ts';
import { backendColour, formatTime, h, replace } from '../dom.ts';
import { api } from '../head-client.ts';
import type { TaskStore } from '../task-store.ts';
import { nodeUsageChart } from './node-usage-chart.ts';

/** Charts drawn at most (the first nodes); the rest are named in a note. */
const MAX_CHARTS = 24;
/** Windows of the per-node charts (ms; 0: everything kept). */
const WINDOWS: readonly (readonly [string, number])[] = [
  ['last 15 min', 15 * 60_000],
  ['last hour', 3_600_000],
  ['everything kept', 0],
];

interface DemandEntry {
  readonly resources: Record<string, number>;
  readonly backend?: string;
  readonly count: number;
  readonly missing?: string;
}

function kv(r: Record<string, unknown>): string {
  return Object.entries(r)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`)
    .join(' ');
}

/** Draws used/total CPUs (blue, filled) and pending tasks (orange) against time. */
export function drawUsage(canvas: HTMLCanvasElement, samples: readonly UsageSample[]): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const hgt = canvas.clientHeight || 160;
  canvas.width = w * dpr;
  canvas.height = hgt * dpr;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#667';
  if (samples.length < 2) {
    ctx.fillText('Usage appears here while the head runs.', 10, hgt / 2);
    return;
  }
  const t0 = samples[0]!.t;
  const span = Math.max(1, samples[samples.length - 1]!.t - t0);
  const cpu = (r: Record<string, number>) => r.CPU ?? 0;
  const maxCpu = Math.max(1, ...samples.map((s) => cpu(s.total)));
  const maxPending = Math.max(1, ...samples.map((s) => s.pending));
  const x = (t: number) => 40 + ((t - t0) / span) * (w - 50);
  const y = (v: number, max: number) => hgt - 18 - (v / max) * (hgt - 28);
  ctx.fillStyle = 'rgba(59,130,246,0.25)';
  ctx.strokeStyle = '#3b82f6';
  ctx.beginPath();
  ctx.moveTo(x(t0), y(0, maxCpu));
  for (const s of samples) ctx.lineTo(x(s.t), y(cpu(s.used), maxCpu));
  ctx.lineTo(x(samples[samples.length - 1]!.t), y(0, maxCpu));
  ctx.fill();
  ctx.stroke();
  ctx.strokeStyle = '#e08a1e';
  ctx.beginPath();
  samples.forEach((s, i) => {
    if (i) ctx.lineTo(x(s.t), y(s.pending, maxPending));
    else ctx.moveTo(x(s.t), y(s.pending, maxPending));
  });
  ctx.stroke();
  ctx.fillStyle = '#667';
  ctx.fillText(`${maxCpu} CPU`, 2, 12);
  ctx.fillText(`${(span / 1000).toFixed(0)} s`, w - 40, hgt - 4);
  ctx.fillStyle = '#e08a1e';
  ctx.fillText(`pending (max ${maxPending})`, 60, 12);
}

/** The cluster tab. */
export class ClusterView implements View {
  readonly id = 'cluster';
  readonly title = 'Cluster';
  readonly element: HTMLElement;
  private readonly nodes = h('div', { class: 'nodes', 'data-testid': 'cluster-nodes' });
  private readonly chart = h('canvas', {
    class: 'usage-chart',
    role: 'img',
    'aria-label': 'CPU usage and pending tasks over time',
  });
  private readonly demand = h('div', { class: 'demand' });
  private readonly nodeCharts = h('div', { class: 'node-charts', 'data-testid': 'node-usage' });
  private readonly window = h(
    'select',
    { 'aria-label': 'Usage window', 'data-testid': 'usage-window', onchange: () => this.render() },
    ...WINDOWS.map(([label, ms]) => h('option', { value: String(ms) }, label)),
  );
  private readonly cost = h('div', { class: 'cost', 'data-testid': 'cost' });
  /** Replay stores whose recorded usage was asked for (loaded once each). */
  private readonly usageLoaded = new WeakSet<TaskStore>();
  /** What the charts were last drawn from (store, samples, window, nodes): unchanged, they are not redrawn. */
  private chartsDrawn: { store: TaskStore; key: string } | undefined;
  /** Says whose nodes are shown: the live cluster's, or a replayed session's recorded ones. */
  private readonly source = h('p', { class: 'hint', 'data-testid': 'cluster-source' });
  private readonly liveParts: HTMLElement[];
  private drawnVersion = -1;
  private renderedAt = 0;
  private timer: number | undefined;

  constructor(private readonly app: App) {
    const usageHead = h('h2', {}, 'Usage over time');
    const demandHead = h('h2', {}, 'Pending demand');
    this.liveParts = [usageHead, this.chart, demandHead, this.demand];
    this.element = h(
      'section',
      { class: 'cluster-view' },
      this.source,
      ...this.liveParts,
      h('div', { class: 'section-head' }, h('h2', {}, 'Usage per node'), h('label', {}, 'show ', this.window)),
      this.nodeCharts,
      h('h2', {}, 'Cost so far'),
      this.cost,
      h('h2', {}, 'Nodes'),
      this.nodes,
    );
    this.window.value = String(3_600_000);
    app.live.onChange(() => {
      // Half a second is smooth enough for a chart and keeps big clusters' tables cheap.
      if (
        !this.element.hidden &&
        !app.shown.replayOf &&
        this.drawnVersion !== app.live.version &&
        performance.now() - this.renderedAt > 500
      )
        this.render();
    });
    // Opening a session, going back to live, or the first snapshot after a reload on #cluster
    // swaps what this tab shows (without waiting out the half second above).
    app.onShownChange(() => {
      if (!this.element.hidden) this.show();
    });
  }

  show(): void {
    this.render();
    clearInterval(this.timer);
    const replay = this.app.shown.replayOf;
    if (replay !== undefined) {
      void this.loadCost(`sessions/${encodeURIComponent(replay)}/cost`, replay);
      return;
    }
    const poll = () => {
      if (this.element.hidden) return clearInterval(this.timer);
      void this.loadCost('cost', undefined);
      api<{ pendingDemand: DemandEntry[]; infeasible: DemandEntry[] }>('status').then(
        (s) => {
          const rows = [...s.pendingDemand.map((d) => ({ ...d, missing: '' })), ...s.infeasible];
          replace(
            this.demand,
            rows.length === 0
              ? h('p', { class: 'hint' }, 'Nothing waiting for room.')
              : h(
                  'table',
                  { class: 'grid' },
                  h(
                    'thead',
                    {},
                    h('tr', {}, ...['tasks', 'resources', 'backend', 'infeasible because'].map((c) => h('th', {}, c))),
                  ),
                  h(
                    'tbody',
                    {},
                    ...rows.map((d) =>
                      h(
                        'tr',
                        {},
                        h('td', {}, String(d.count)),
                        h('td', {}, kv(d.resources)),
                        h('td', {}, d.backend ?? 'any'),
                        h('td', {}, d.missing ?? ''),
                      ),
                    ),
                  ),
                ),
          );
        },
        () => undefined,
      );
    };
    poll();
    this.timer = window.setInterval(poll, 2000);
  }

  /** Shows the cost so far (live, or the replayed session's). */
  private async loadCost(path: string, replay: string | undefined): Promise<void> {
    let c: CostSummary;
    try {
      c = await api<CostSummary>(path);
    } catch (err) {
      replace(this.cost, h('p', { class: 'hint' }, `Cannot read the cost: ${(err as Error).message}`));
      return;
    }
    if (this.app.shown.replayOf !== replay) return;
    const usd = (v: number) => `$${v.toFixed(v < 1 ? 4 : 2)}`;
    replace(
      this.cost,
      ...this.budgetLines(c, usd),
      c.tasks === 0
        ? h(
            'p',
            { class: 'hint' },
            replay ? 'No task of this session reported a cost.' : 'No task reported a cost yet.',
            ' Tasks on SageMaker, Braket and IBM Quantum report one (costUsd in their info).',
          )
        : h(
            'table',
            { class: 'grid cost-table' },
            h('thead', {}, h('tr', {}, ...['backend', 'tasks', 'cost (USD)'].map((t) => h('th', {}, t)))),
            h(
              'tbody',
              {},
              ...c.byBackend.map((b) =>
                h(
                  'tr',
                  { 'data-backend': b.backend },
                  h('td', {}, b.backend || '(no node)'),
                  h('td', { class: 'num' }, String(b.tasks)),
                  h('td', { class: 'num' }, usd(b.usd)),
                ),
              ),
              h(
                'tr',
                { class: 'total', 'data-testid': 'cost-total' },
                h('th', {}, replay ? `session ${replay}` : 'this session'),
                h('td', { class: 'num' }, String(c.tasks)),
                h('td', { class: 'num' }, usd(c.totalUsd)),
              ),
            ),
          ),
    );
  }

  /** The budgets the live head enforces (init({ budget }), backends' budgetUsd): spent, reserved by jobs in flight, and the limit. */
  private budgetLines(c: CostSummary, usd: (v: number) => string): HTMLElement[] {
    const b = c.budget;
    if (!b) return [];
    const line = (who: string, spent: number, reserved: number, limit: number) =>
      h(
        'p',
        { class: 'hint', 'data-budget': who },
        `Budget of ${who}: ${usd(spent)} spent${reserved > 0 ? ` + ${usd(reserved)} reserved by jobs in flight` : ''} of ${usd(limit)}.`,
      );
    const out: HTMLElement[] = [];
    if (b.budgetUsd !== undefined) out.push(line('this session', b.spentUsd, b.reservedUsd, b.budgetUsd));
    for (const r of b.byBackend)
      if (r.budgetUsd !== undefined) out.push(line(`backend ${r.backend}`, r.spentUsd, r.reservedUsd, r.budgetUsd));
    return out;
  }

  /** The per-node charts of `store` (live: the head's history; a replay: what the session recorded). */
  private renderNodeCharts(store: TaskStore, names: ReadonlyMap<string, string>): void {
    const replay = store.replayOf;
    if (replay !== undefined && !this.usageLoaded.has(store)) {
      this.usageLoaded.add(store);
      replace(this.nodeCharts, h('p', { class: 'hint' }, 'Loading the usage the session recorded…'));
      api<{ samples: NodeUsageSample[] }>(`sessions/${encodeURIComponent(replay)}/usage`).then(
        (r) => {
          store.setNodeUsage(r.samples);
          if (this.app.shown === store && !this.element.hidden) this.render();
        },
        (err: Error) =>
          replace(this.nodeCharts, h('p', { class: 'hint' }, `Cannot read the recorded usage: ${err.message}`)),
      );
      return;
    }
    const key = `${store.usageVersion} ${this.window.value} ${[...names].join(',')}`;
    if (this.chartsDrawn?.store === store && this.chartsDrawn.key === key) return;
    this.chartsDrawn = { store, key };
    const all = [...store.nodeUsage].filter(([, s]) => s.length > 0);
    if (all.length === 0) {
      replace(
        this.nodeCharts,
        h(
          'p',
          { class: 'hint' },
          replay
            ? 'This session recorded no usage (sessions recorded before usage history have none).'
            : 'Usage per node appears here a few seconds after nodes join (sampled every 2 s).',
        ),
      );
      return;
    }
    let from = Infinity;
    let to = -Infinity;
    for (const [, s] of all) {
      from = Math.min(from, s[0]!.t);
      to = Math.max(to, s[s.length - 1]!.t);
    }
    const win = Number(this.window.value);
    if (replay === undefined) to = Math.max(to, Date.now());
    if (win > 0) from = Math.max(from, to - win);
    const shown = all.slice(0, MAX_CHARTS);
    replace(
      this.nodeCharts,
      ...shown.map(([nodeId, samples]) => nodeUsageChart(nodeId, names.get(nodeId) ?? '?', samples, from, to)),
      all.length > MAX_CHARTS
        ? h(
            'p',
            { class: 'hint' },
            `${all.length - MAX_CHARTS} more nodes are not charted (the first ${MAX_CHARTS} are).`,
          )
        : null,
    );
  }

  private render(): void {
    const replay = this.app.shown.replayOf;
    for (const el of this.liveParts) el.hidden = replay !== undefined;
    if (replay !== undefined) {
      const recorded = this.app.shown.recordedNodes;
      this.renderNodeCharts(this.app.shown, new Map(recorded.map((n) => [n.nodeId, n.backend ?? '?'])));
      return this.renderRecorded(replay, recorded);
    }
    this.renderNodeCharts(this.app.live, new Map(this.app.live.nodes.map((n) => [n.nodeId, n.backend])));
    this.source.className = 'hint';
    this.source.textContent = 'The live cluster.';
    const store = this.app.live;
    this.drawnVersion = store.version;
    this.renderedAt = performance.now();
    drawUsage(this.chart, store.usage);
    const byBackend = new Map<string, NodeRow[]>();
    for (const n of store.nodes) byBackend.set(n.backend, [...(byBackend.get(n.backend) ?? []), n]);
    replace(
      this.nodes,
      ...[...byBackend].map(([backend, nodes]) =>
        h(
          'div',
          { class: 'backend-nodes', 'data-backend': backend },
          h(
            'h3',
            { style: `border-left:4px solid ${backendColour(backend)};padding-left:6px` },
            `${backend} (${nodes.length})`,
          ),
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h('tr', {}, ...['node', 'state', 'resources', 'available', 'labels'].map((c) => h('th', {}, c))),
            ),
            h(
              'tbody',
              {},
              ...nodes.map((n) =>
                h(
                  'tr',
                  { class: n.state === 'DEAD' ? 'dead' : '' },
                  h('td', {}, n.nodeId),
                  h('td', { title: n.deathReason }, n.state),
                  h('td', {}, kv(n.resources)),
                  h('td', {}, kv(n.available)),
                  h('td', {}, kv(n.labels)),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  /** A replay: the nodes the session recorded (never the live cluster), or a note that it recorded none. */
  private renderRecorded(session: string, nodes: readonly SessionNodeRow[]): void {
    this.drawnVersion = -1;
    this.source.className = 'replay-note';
    this.source.textContent =
      nodes.length === 0
        ? `Replaying session ${session}: it recorded no node data, so there are no nodes to show. The live cluster is not shown while replaying (use Back to live).`
        : `Replaying session ${session}: the ${nodes.length} node${nodes.length === 1 ? '' : 's'} it recorded, not the live cluster, with the usage and cost it recorded. The cluster-wide usage chart and pending demand are live-only and hidden while replaying.`;
    const byBackend = new Map<string, SessionNodeRow[]>();
    for (const n of nodes) {
      const b = n.backend ?? '(unknown backend)';
      byBackend.set(b, [...(byBackend.get(b) ?? []), n]);
    }
    replace(
      this.nodes,
      ...[...byBackend].map(([backend, rows]) =>
        h(
          'div',
          { class: 'backend-nodes', 'data-backend': backend, 'data-recorded': session },
          h(
            'h3',
            { style: `border-left:4px solid ${backendColour(backend)};padding-left:6px` },
            `${backend} (${rows.length})`,
          ),
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h('tr', {}, ...['node', 'resources', 'labels', 'joined', 'left'].map((c) => h('th', {}, c))),
            ),
            h(
              'tbody',
              {},
              ...rows.map((n) =>
                h(
                  'tr',
                  { 'data-node': n.nodeId },
                  h('td', {}, n.nodeId),
                  h('td', {}, kv(n.resources) || 'not recorded'),
                  h('td', {}, kv(n.labels)),
                  h('td', {}, n.joinedAt === null ? 'not recorded' : formatTime(n.joinedAt)),
                  h('td', {}, n.leftAt === null ? 'not recorded leaving' : formatTime(n.leftAt)),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
}
