/**
 * Cluster tab: nodes grouped by backend with resources, what is free and labels; CPU usage and
 * pending tasks over time (a canvas chart from the event stream's usage samples); and the
 * pending / infeasible demand from /api/status.
 */
import type { App, View } from '../app.ts';
import type { NodeRow, SessionNodeRow, UsageSample } from '../api-types.ts';
import { backendColour, formatTime, h, replace } from '../dom.ts';
import { api } from '../head-client.ts';

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
      h('h2', {}, 'Nodes'),
      this.nodes,
    );
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
    if (this.app.shown.replayOf) return;
    const poll = () => {
      if (this.element.hidden) return clearInterval(this.timer);
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

  private render(): void {
    const replay = this.app.shown.replayOf;
    for (const el of this.liveParts) el.hidden = replay !== undefined;
    if (replay !== undefined) return this.renderRecorded(replay, this.app.shown.recordedNodes);
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
        : `Replaying session ${session}: the ${nodes.length} node${nodes.length === 1 ? '' : 's'} it recorded, not the live cluster. Usage over time and pending demand are live-only and hidden while replaying.`;
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
