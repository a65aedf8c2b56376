/**
 * Task graph: the run's DAG on a <canvas> (tasks as boxes filled by state and outlined by
 * backend, results passed as arguments as edges), with zoom (wheel, +/-), pan (drag, arrows)
 * and click for the task panel. Only boxes in view are drawn; big runs are grouped.
 */
import type { App, View } from '../app.ts';
import { h, replace, STATE_COLOURS } from '../dom.ts';
import { DepthCache, groupMembers, hitTest, layoutGraph, type GraphLayout } from '../graph-layout.ts';
import { openTask } from '../task-panel.ts';
import { TASK_STATES } from '../api-types.ts';

/** Grouped layouts are rebuilt at most this often while tasks stream in. */
const GROUPED_RELAYOUT_MS = 250;

/** The task graph tab. */
export class GraphView implements View {
  readonly id = 'graph';
  readonly title = 'Task graph';
  readonly element: HTMLElement;
  private readonly canvas = h('canvas', {
    tabindex: 0,
    'aria-label': 'Task graph: arrows pan, + and - zoom, Enter opens the first task in view',
    'data-testid': 'graph-canvas',
  });
  private readonly legend = h('div', { class: 'legend', 'data-testid': 'graph-legend' });
  private layout: GraphLayout | undefined;
  private readonly depths = new DepthCache();
  private layoutAt = { version: -1, time: 0 };
  private view = { x: 0, y: 0, scale: 1 };
  private drawn = { version: -1, key: '' };
  /** Until the user zooms or pans, the view keeps fitting the growing graph. */
  private userMoved = false;

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'graph-view' },
      h(
        'div',
        { class: 'toolbar' },
        this.legend,
        h(
          'button',
          {
            onclick: () => {
              this.userMoved = false;
              this.fit();
            },
          },
          'Fit',
        ),
      ),
      this.canvas,
    );
    app.onShownChange(() => {
      this.userMoved = false;
      this.layoutAt.version = -1;
    });
    this.wire();
    const loop = () => {
      if (!this.element.hidden) this.frame();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  show(): void {
    this.drawn.key = '';
  }

  private frame(): void {
    const store = this.app.shown;
    const now = performance.now();
    const stale = this.layoutAt.version !== store.version;
    const grouped = this.layout?.grouped ?? false;
    if (stale && (!grouped || now - this.layoutAt.time > GROUPED_RELAYOUT_MS || this.layoutAt.version < 0)) {
      this.layout = layoutGraph(store, this.depths.of(store));
      this.layoutAt = { version: store.version, time: now };
      this.drawn.key = '';
      this.updateLegend();
      if (!this.userMoved && this.layout.boxes.length) this.fit();
    }
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    const key = `${this.view.x},${this.view.y},${this.view.scale},${w},${hgt}`;
    if (key === this.drawn.key) return;
    this.drawn.key = key;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(hgt * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(hgt * dpr);
    }
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const L = this.layout;
    if (!L) return;
    const { x: ox, y: oy, scale: s } = this.view;
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * ox, dpr * oy);
    const left = -ox / s;
    const top = -oy / s;
    const right = left + w / s;
    const bottom = top + hgt / s;
    const inView = (b: { x: number; y: number; w: number; h: number }) =>
      b.x + b.w >= left && b.x <= right && b.y + b.h >= top && b.y <= bottom;
    ctx.strokeStyle = 'rgba(120,120,140,0.35)';
    ctx.lineWidth = 1 / s;
    ctx.beginPath();
    let edgesDrawn = 0;
    for (const [a, b] of L.edges) {
      const A = L.boxes[a]!;
      const B = L.boxes[b]!;
      if (
        Math.max(A.x, B.x) + A.w < left ||
        Math.min(A.x, B.x) > right ||
        Math.max(A.y, B.y) + A.h < top ||
        Math.min(A.y, B.y) > bottom
      )
        continue;
      if (++edgesDrawn > 20_000) break;
      ctx.moveTo(A.x + A.w, A.y + A.h / 2);
      ctx.lineTo(B.x, B.y + B.h / 2);
    }
    ctx.stroke();
    const labels = s > 0.45;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 2 / s;
    for (const b of L.boxes) {
      if (!inView(b)) continue;
      ctx.fillStyle = b.fill;
      ctx.fillRect(b.x, b.y, b.w, b.h);
      ctx.strokeStyle = b.stroke;
      ctx.strokeRect(b.x, b.y, b.w, b.h);
      if (labels) {
        ctx.fillStyle = '#fff';
        ctx.fillText(b.label.slice(0, 24), b.x + 4, b.y + b.h / 2, b.w - 8);
      }
    }
  }

  private updateLegend(): void {
    const store = this.app.shown;
    const L = this.layout!;
    replace(
      this.legend,
      h(
        'span',
        { 'data-testid': 'graph-total' },
        `${store.order.length} tasks${L.grouped ? ` in ${L.boxes.length} groups` : ''}`,
      ),
      ...TASK_STATES.map((s) =>
        h(
          'span',
          { class: 'chip', style: `border-color:${STATE_COLOURS[s]}` },
          `${s} `,
          h('b', { 'data-testid': `graph-count-${s}` }, String(store.counts.get(s) ?? 0)),
        ),
      ),
    );
  }

  /** Zooms to show the whole graph. */
  private fit(): void {
    const L = this.layout;
    if (!L || !this.canvas.clientWidth) return;
    const s = Math.min(
      2,
      Math.max(0.02, Math.min(this.canvas.clientWidth / (L.width + 40), this.canvas.clientHeight / (L.height + 40))),
    );
    this.view = { x: 20 * s, y: 20 * s, scale: s };
  }

  private zoom(factor: number, cx: number, cy: number): void {
    this.userMoved = true;
    const s = Math.min(8, Math.max(0.01, this.view.scale * factor));
    const k = s / this.view.scale;
    this.view = { x: cx - (cx - this.view.x) * k, y: cy - (cy - this.view.y) * k, scale: s };
  }

  private wire(): void {
    const c = this.canvas;
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        this.zoom(Math.exp(-e.deltaY * 0.0015), e.offsetX, e.offsetY);
      },
      { passive: false },
    );
    let drag: { x: number; y: number; moved: boolean } | undefined;
    c.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (!drag.moved) return;
      this.userMoved = true;
      this.view = { ...this.view, x: this.view.x + dx, y: this.view.y + dy };
      drag.x = e.clientX;
      drag.y = e.clientY;
    });
    c.addEventListener('pointerup', (e) => {
      const clicked = drag && !drag.moved;
      drag = undefined;
      if (clicked) this.open((e.offsetX - this.view.x) / this.view.scale, (e.offsetY - this.view.y) / this.view.scale);
    });
    c.addEventListener('keydown', (e) => {
      const step = 60;
      const pans: Record<string, [number, number]> = {
        ArrowLeft: [step, 0],
        ArrowRight: [-step, 0],
        ArrowUp: [0, step],
        ArrowDown: [0, -step],
      };
      if (pans[e.key]) this.userMoved = true;
      if (pans[e.key]) this.view = { ...this.view, x: this.view.x + pans[e.key]![0], y: this.view.y + pans[e.key]![1] };
      else if (e.key === '+' || e.key === '=') this.zoom(1.25, c.clientWidth / 2, c.clientHeight / 2);
      else if (e.key === '-') this.zoom(0.8, c.clientWidth / 2, c.clientHeight / 2);
      else if (e.key === 'Enter')
        this.open(
          (c.clientWidth / 2 - this.view.x) / this.view.scale,
          (c.clientHeight / 2 - this.view.y) / this.view.scale,
          true,
        );
      else return;
      e.preventDefault();
    });
  }

  private open(gx: number, gy: number, nearest = false): void {
    const L = this.layout;
    if (!L) return;
    let b = hitTest(L, gx, gy);
    if (!b && nearest)
      b = L.boxes.reduce(
        (best, x) => (!best || Math.hypot(x.x - gx, x.y - gy) < Math.hypot(best.x - gx, best.y - gy) ? x : best),
        L.boxes[0],
      );
    if (!b) return;
    const session = this.app.shown.replayOf;
    if (b.id !== undefined) return void openTask(this.app, b.id, session);
    const ids = groupMembers(this.app.shown, this.depths.of(this.app.shown), b.group!, 200);
    this.app.openPanel(
      b.label,
      h('p', {}, `${b.count} tasks in this group; the first ${ids.length}:`),
      h(
        'ul',
        { class: 'group-list' },
        ...ids.map((id) =>
          h('li', {}, h('button', { class: 'link', onclick: () => void openTask(this.app, id, session) }, id)),
        ),
      ),
    );
  }
}
