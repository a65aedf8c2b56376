/**
 * Cluster tab: nodes grouped by backend with resources, what is free and labels; CPU usage and
 * pending tasks over time (a canvas chart from the event stream's usage samples); and the
 * pending / infeasible demand from /api/status.
 */
import type { App, View } from '../app.ts';
import type { NodeRow, UsageSample } from '../api-types.ts';
import { backendColour, h, replace } from '../dom.ts';
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
  private drawnVersion = -1;
  private renderedAt = 0;
  private timer: number | undefined;

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'cluster-view' },
      h('h2', {}, 'Usage over time'),
      this.chart,
      h('h2', {}, 'Pending demand'),
      this.demand,
      h('h2', {}, 'Nodes'),
      this.nodes,
    );
    app.live.onChange(() => {
      // Half a second is smooth enough for a chart and keeps big clusters' tables cheap.
      if (!this.element.hidden && this.drawnVersion !== app.live.version && performance.now() - this.renderedAt > 500)
        this.render();
    });
    // A snapshot right after show() (a reload on #cluster) must not wait out the half second above.
    app.onShownChange(() => {
      if (!this.element.hidden) this.render();
    });
  }

  show(): void {
    this.render();
    clearInterval(this.timer);
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
}
