/**
 * Timeline (Gantt): one run's tasks as bars from start to end, in lanes per node and worker
 * slot (timeline-layout.ts), coloured by state or backend. Wheel zooms time around the pointer,
 * drag pans, hover shows the task, a click opens its panel; "Find" brings a task into view. A
 * canvas that draws only the lanes and bars in view, and at most one bar per pixel per lane, so
 * 100,000 tasks stay smooth.
 */
import { TASK_STATES, type TaskView } from '../api-types.ts';
import type { App, View } from '../app.ts';
import { backendColour, clockTime, duration, h, replace, STATE_COLOURS } from '../dom.ts';
import type { RunFilter } from '../run-filter.ts';
import { shortId } from '../short-id.ts';
import { openTask } from '../task-panel.ts';
import { barAt, firstEndingAfter, layoutTimeline, type TimelineLayout } from '../timeline-layout.ts';
import { fitText } from './canvas-text.ts';

const LABEL_W = 170;
const AXIS_H = 24;
const LANE_H = 18;
const NODE_GAP = 8;
/** Above this many tasks, lanes are rebuilt at most this often while tasks stream in. */
const THROTTLE_ABOVE = 2000;
const RELAYOUT_MS = 500;
/** While a task runs its bar grows: redraw this often. */
const RUNNING_REDRAW_MS = 250;

/** The timeline tab. */
export class TimelineView implements View {
  readonly id = 'timeline';
  readonly title = 'Timeline';
  readonly element: HTMLElement;
  // The controls are made when the tab is first shown: a dashboard that never opens the
  // timeline carries none of its elements.
  private canvas!: HTMLCanvasElement;
  private summary!: HTMLSpanElement;
  private legend!: HTMLDivElement;
  private colourSelect!: HTMLSelectElement;
  private find!: HTMLInputElement;
  private note!: HTMLSpanElement;
  private built = false;
  private layout: TimelineLayout | undefined;
  private laneY: number[] = [];
  private contentH = 0;
  private layoutAt = { version: -1, time: 0, run: '' };
  /** Left edge (ms since the epoch), ms per pixel, vertical scroll (px). */
  private view = { t: 0, msPerPx: 1, y: 0 };
  private userMoved = false;
  private highlighted: string | undefined;
  private drawnKey = '';
  private drawnAt = 0;

  constructor(
    private readonly app: App,
    private readonly runs: RunFilter,
  ) {
    this.element = h('section', { class: 'graph-view timeline-view' });
    const relayout = () => {
      this.userMoved = false;
      this.layoutAt.version = -1;
    };
    app.onShownChange(relayout);
    runs.onChange(relayout);
    const loop = () => {
      if (this.built && !this.element.hidden) this.frame();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  show(): void {
    if (!this.built) this.build();
    this.drawnKey = '';
  }

  private build(): void {
    this.built = true;
    this.canvas = h('canvas', {
      tabindex: 0,
      'aria-label': 'Timeline: wheel or + and - zoom, drag or arrows pan, click a bar for its task',
      'data-testid': 'timeline-canvas',
    });
    this.summary = h('span', { 'data-testid': 'timeline-summary' });
    this.legend = h('div', { class: 'legend', 'data-testid': 'timeline-legend' });
    this.colourSelect = h(
      'select',
      { 'aria-label': 'Colour by', 'data-testid': 'timeline-colour', onchange: () => this.redraw(true) },
      h('option', { value: 'state' }, 'Colour: state'),
      h('option', { value: 'backend' }, 'Colour: backend'),
    );
    this.find = h('input', {
      type: 'search',
      placeholder: 'Find task (id or name)',
      'aria-label': 'Find task',
      'data-testid': 'timeline-find',
      onkeydown: (e) => {
        if ((e as KeyboardEvent).key === 'Enter') this.findTask(this.find.value.trim());
      },
    });
    this.note = h('span', { class: 'count', 'data-testid': 'timeline-note' });
    this.element.append(
      h(
        'div',
        { class: 'toolbar' },
        this.runs.select(),
        this.colourSelect,
        this.find,
        h('button', { onclick: () => this.findTask(this.find.value.trim()) }, 'Find'),
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
        this.summary,
        this.note,
      ),
      this.legend,
      this.canvas,
    );
    this.wire();
    this.layoutAt.version = -1;
  }

  private get byState(): boolean {
    return this.colourSelect.value === 'state';
  }

  private colourOf(t: TaskView | undefined): string {
    if (!t) return '#888';
    return this.byState ? (STATE_COLOURS[t.state] ?? '#888') : backendColour(t.backend);
  }

  private redraw(legend = false): void {
    this.drawnKey = '';
    if (legend) this.updateLegend();
  }

  private frame(): void {
    const store = this.app.shown;
    const now = Date.now();
    this.runs.refresh(store);
    const run = this.runs.selected(store);
    const at = this.layoutAt;
    const moved = at.run !== (run ?? '*');
    const stale = at.version !== store.version || moved;
    const throttled = store.order.length > THROTTLE_ABOVE && performance.now() - at.time < RELAYOUT_MS;
    if (stale && (at.version < 0 || moved || !throttled)) {
      this.layout = layoutTimeline(store, run, now);
      this.layoutAt = { version: store.version, time: performance.now(), run: run ?? '*' };
      let y = 0;
      this.laneY = this.layout.lanes.map((l, i) => {
        if (i > 0 && l.slot === 0) y += NODE_GAP;
        const top = y;
        y += LANE_H;
        return top;
      });
      this.contentH = y;
      this.drawnKey = '';
      this.updateLegend();
      if (!this.userMoved) this.fit();
    }
    const running = this.layout?.lanes.some((l) => l.ends[l.ends.length - 1] === Infinity) ?? false;
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    const key = `${this.view.t},${this.view.msPerPx},${this.view.y},${w},${hgt},${this.highlighted}`;
    if (key === this.drawnKey && !(running && now - this.drawnAt > RUNNING_REDRAW_MS)) return;
    this.drawnKey = key;
    this.drawnAt = now;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(hgt * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(hgt * dpr);
    }
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    if (this.layout) this.draw(ctx, this.layout, w, hgt, now);
  }

  private draw(ctx: CanvasRenderingContext2D, L: TimelineLayout, w: number, hgt: number, now: number): void {
    const { t: t0, msPerPx, y: scrollY } = this.view;
    const plotW = w - LABEL_W;
    const tRight = t0 + plotW * msPerPx;
    const px = (t: number) => LABEL_W + (t - t0) / msPerPx;
    this.drawAxis(ctx, L, w, hgt, t0, tRight, px);
    const store = this.app.shown;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, w, hgt - AXIS_H);
    ctx.clip();
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    let found: [number, number, number] | undefined;
    L.lanes.forEach((lane, li) => {
      const y = AXIS_H + this.laneY[li]! - scrollY;
      if (y + LANE_H < AXIS_H || y > hgt) return;
      if (lane.slot === 0) {
        ctx.fillStyle = '#f2f4f7';
        const lanesOfNode = L.lanes.slice(li).findIndex((l, k) => k > 0 && l.slot === 0);
        const nodeH = (lanesOfNode < 0 ? L.lanes.length - li : lanesOfNode) * LANE_H;
        ctx.fillRect(0, y, LABEL_W - 4, nodeH);
      }
      ctx.fillStyle = '#1d2430';
      const label = lane.slot === 0 ? `${lane.backend || 'no backend'} ${shortId(lane.nodeId) || '(no node)'}` : '';
      ctx.fillText(fitText(ctx, label || `  worker ${lane.slot + 1}`, LABEL_W - 14), 6, y + LANE_H / 2);
      ctx.save();
      ctx.beginPath();
      ctx.rect(LABEL_W, AXIS_H, plotW, hgt - AXIS_H);
      ctx.clip();
      let lastX = -Infinity;
      for (let i = firstEndingAfter(lane, t0); i < lane.starts.length && lane.starts[i]! <= tRight; i++) {
        const x0 = px(lane.starts[i]!);
        const x1 = px(Math.min(lane.ends[i]!, now));
        // Bars under one pixel that start where the last drawn bar ended add nothing: skip them.
        if (x1 - x0 < 1 && x1 < lastX + 1) continue;
        const id = lane.ids[i]!;
        ctx.fillStyle = this.colourOf(store.tasks.get(id));
        ctx.fillRect(x0, y + 2, Math.max(1, x1 - x0), LANE_H - 4);
        lastX = Math.max(x0 + 1, x1);
        if (id === this.highlighted) found = [x0, x1, y];
      }
      ctx.restore();
    });
    if (found) {
      const [x0, x1, y] = found;
      ctx.strokeStyle = '#1d2430';
      ctx.lineWidth = 2;
      ctx.strokeRect(x0 - 2, y, Math.max(1, x1 - x0) + 4, LANE_H);
      this.canvas.dataset.foundX = String(Math.round(Math.max(LABEL_W + 1, Math.min(w - 2, (x0 + x1) / 2))));
      this.canvas.dataset.foundY = String(Math.round(y + LANE_H / 2));
    }
    ctx.restore();
  }

  private drawAxis(
    ctx: CanvasRenderingContext2D,
    L: TimelineLayout,
    w: number,
    hgt: number,
    t0: number,
    tRight: number,
    px: (t: number) => number,
  ): void {
    const span = tRight - t0;
    const steps = [
      1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 3_600_000,
    ];
    const step = steps.find((s) => (s / span) * (w - LABEL_W) >= 90) ?? 3_600_000;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.strokeStyle = '#e4e7ec';
    ctx.fillStyle = '#667085';
    ctx.lineWidth = 1;
    const first = L.start + Math.ceil((t0 - L.start) / step) * step;
    ctx.beginPath();
    for (let t = first; t <= tRight; t += step) {
      const x = Math.round(px(t)) + 0.5;
      ctx.moveTo(x, AXIS_H - 4);
      ctx.lineTo(x, hgt);
      ctx.fillText(`+${duration(t - L.start)}`, x + 3, AXIS_H / 2);
    }
    ctx.stroke();
    ctx.fillText(clockTime(L.start), 6, AXIS_H / 2);
  }

  private updateLegend(): void {
    const L = this.layout;
    if (!L) return;
    replace(
      this.summary,
      `${L.bars} tasks ran on ${L.nodes} node${L.nodes === 1 ? '' : 's'} in ${L.lanes.length} lane${L.lanes.length === 1 ? '' : 's'}`,
    );
    this.summary.dataset.lanes = String(L.lanes.length);
    this.summary.dataset.nodes = String(L.nodes);
    const backends = [...new Set(L.lanes.map((l) => l.backend))];
    replace(
      this.legend,
      ...(this.byState
        ? TASK_STATES.map((s) => h('span', { class: 'chip', style: `border-color:${STATE_COLOURS[s]}` }, s))
        : backends.map((b) =>
            h(
              'span',
              {
                class: 'chip',
                style: `border-color:${backendColour(b || undefined)}`,
                'data-testid': 'timeline-backend',
              },
              b || 'no backend',
            ),
          )),
    );
  }

  private fit(): void {
    const L = this.layout;
    const plotW = this.canvas.clientWidth - LABEL_W;
    if (!L || plotW <= 0) return;
    const span = Math.max(1, L.end - L.start);
    this.view = { t: L.start - span * 0.02, msPerPx: (span * 1.04) / plotW, y: 0 };
  }

  private findTask(q: string): void {
    const L = this.layout;
    if (!L || !q) return;
    const store = this.app.shown;
    const match = (id: string) => {
      const t = store.tasks.get(id);
      return id === q || id.endsWith(q.replace(/^…/, '')) || t?.name === q;
    };
    for (let li = 0; li < L.lanes.length; li++) {
      const lane = L.lanes[li]!;
      const i = lane.ids.findIndex(match);
      if (i < 0) continue;
      const id = lane.ids[i]!;
      const s = lane.starts[i]!;
      const e = Math.min(lane.ends[i]!, Date.now());
      const plotW = this.canvas.clientWidth - LABEL_W;
      const span = Math.max(e - s, 1) * 3;
      this.userMoved = true;
      const visibleH = this.canvas.clientHeight - AXIS_H;
      this.view = {
        t: s - span / 3,
        msPerPx: span / plotW,
        y: Math.max(0, Math.min(this.laneY[li]! - visibleH / 2, this.contentH - visibleH)),
      };
      this.highlighted = id;
      const t = store.tasks.get(id);
      this.note.textContent = `${t?.name ?? ''} ${shortId(id)} on ${shortId(lane.nodeId)}, ${duration(e - s)}`;
      return;
    }
    this.highlighted = undefined;
    this.note.textContent = `No task of this run matches "${q}" (tasks that never started have no bar).`;
  }

  /** The task under canvas point (x, y), if any. */
  private taskAt(x: number, y: number): string | undefined {
    const L = this.layout;
    if (!L || x < LABEL_W || y < AXIS_H) return undefined;
    const gy = y - AXIS_H + this.view.y;
    const li = this.laneY.findIndex((top) => gy >= top && gy < top + LANE_H);
    if (li < 0) return undefined;
    const t = this.view.t + (x - LABEL_W) * this.view.msPerPx;
    // A bar narrower than a pixel is still hit from the pixel it is drawn on.
    return barAt(L.lanes[li]!, t, Date.now()) ?? barAt(L.lanes[li]!, t - this.view.msPerPx, Date.now());
  }

  private zoom(factor: number, cx: number): void {
    this.userMoved = true;
    const at = this.view.t + (cx - LABEL_W) * this.view.msPerPx;
    const msPerPx = Math.max(0.001, this.view.msPerPx / factor);
    this.view = { ...this.view, t: at - (cx - LABEL_W) * msPerPx, msPerPx };
  }

  private pan(dx: number, dy: number): void {
    this.userMoved = true;
    const maxY = Math.max(0, this.contentH - (this.canvas.clientHeight - AXIS_H));
    this.view = {
      ...this.view,
      t: this.view.t - dx * this.view.msPerPx,
      y: Math.max(0, Math.min(maxY, this.view.y - dy)),
    };
  }

  private wire(): void {
    const c = this.canvas;
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        if (e.shiftKey) this.pan(0, -e.deltaY);
        else this.zoom(Math.exp(-e.deltaY * 0.0015), e.offsetX);
      },
      { passive: false },
    );
    let drag: { x: number; y: number; moved: boolean } | undefined;
    c.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      if (!drag) {
        const id = this.taskAt(e.offsetX, e.offsetY);
        const t = id ? this.app.shown.tasks.get(id) : undefined;
        const title = t
          ? `${t.name} ${shortId(t.id)}\n${t.state}${t.backend ? ` on ${t.backend}` : ''} ${shortId(t.nodeId)}\nran ${duration((t.endedAt ?? Date.now()) - (t.startedAt ?? 0))}`
          : '';
        if (c.title !== title) c.title = title;
        c.style.cursor = t ? 'pointer' : '';
        return;
      }
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (!drag.moved) return;
      this.pan(dx, dy);
      drag.x = e.clientX;
      drag.y = e.clientY;
    });
    c.addEventListener('pointerup', (e) => {
      const clicked = drag && !drag.moved;
      drag = undefined;
      if (!clicked) return;
      const id = this.taskAt(e.offsetX, e.offsetY);
      if (id) void openTask(this.app, id, this.app.shown.replayOf);
    });
    c.addEventListener('keydown', (e) => {
      const mid = LABEL_W + (c.clientWidth - LABEL_W) / 2;
      if (e.key === 'ArrowLeft') this.pan(80, 0);
      else if (e.key === 'ArrowRight') this.pan(-80, 0);
      else if (e.key === 'ArrowUp') this.pan(0, 60);
      else if (e.key === 'ArrowDown') this.pan(0, -60);
      else if (e.key === '+' || e.key === '=') this.zoom(1.25, mid);
      else if (e.key === '-') this.zoom(0.8, mid);
      else return;
      e.preventDefault();
    });
  }
}
