/**
 * Task graph: one run's tasks on a <canvas> as groups of fan-outs (graph-groups.ts) laid out by
 * iteration and submission order (graph-layout.ts), each with a bar of its states or backends;
 * a click expands a group into its tasks and opens its summary. Zoom (wheel, +/-), pan (drag,
 * arrows); labels are drawn at screen size with an ellipsis, the tooltip holds them whole. Only
 * boxes in view are drawn.
 */
import type { App, View } from '../app.ts';
import { backendColour, h, replace, setText, STATE_COLOURS } from '../dom.ts';
import { FRAME_HEAD, type GraphBox, type GraphLayout, hitTest, layoutGraph } from '../graph-layout.ts';
import { openTask } from '../task-panel.ts';
import { TASK_STATES, type TaskView } from '../api-types.ts';
import type { RunFilter } from '../run-filter.ts';
import { groupSummary } from './group-summary.ts';
import { fitText } from './canvas-text.ts';

/** Above this many tasks, layouts are rebuilt at most every GROUPED_RELAYOUT_MS while tasks stream in. */
const THROTTLE_ABOVE = 2000;
const GROUPED_RELAYOUT_MS = 250;
/** Readable scale the first fit does not go below (Fit shows everything). */
const READABLE_SCALE = 0.7;
/** The states as the legend names them (the chip's tooltip has the API's name). */
const STATE_WORDS = ['waiting for args', 'waiting for a node', 'running', 'finished', 'failed'];
/** Boxes listed for screen readers. */
const BOXES_LISTED = 500;

/** How boxes are coloured. */
export type ColourBy = 'state' | 'backend';

/** The task graph tab. */
export class GraphView implements View {
  readonly id = 'graph';
  readonly title = 'Task graph';
  readonly element: HTMLElement;
  private readonly canvas = h('canvas', {
    tabindex: 0,
    'aria-label': 'Task graph: arrows pan, + and - zoom, Enter opens the box nearest the centre',
    'data-testid': 'graph-canvas',
  });
  private readonly legend = h('div', { class: 'legend', 'data-testid': 'graph-legend' });
  private readonly colourSelect = h(
    'select',
    {
      'aria-label': 'Colour by',
      'data-testid': 'graph-colour',
      onchange: () => {
        this.colourBy = this.colourSelect.value as ColourBy;
        this.drawn.key = '';
        this.updateLegend();
      },
    },
    h('option', { value: 'state' }, 'Colour: state'),
    h('option', { value: 'backend' }, 'Colour: backend'),
  );
  /** The boxes as text, for screen readers (and tests): label, states, place in graph units. */
  private readonly boxList = h('ul', { class: 'sr-only', 'data-testid': 'graph-boxes', 'aria-label': 'Graph boxes' });
  private colourBy: ColourBy = 'state';
  /** What the legend's chips are (colour mode and backends), to update only their numbers. */
  private legendShape = '';
  private layout: GraphLayout | undefined;
  private layoutAt = { version: -1, time: 0, run: '', aspect: 0 };
  private readonly expanded = new Set<string>();
  private view = { x: 0, y: 0, scale: 1 };
  private drawn = { key: '' };
  /** Until the user zooms or pans, the view keeps fitting the growing graph. */
  private userMoved = false;

  constructor(
    private readonly app: App,
    private readonly runs: RunFilter,
  ) {
    this.element = h(
      'section',
      { class: 'graph-view' },
      h(
        'div',
        { class: 'toolbar' },
        runs.select(),
        this.colourSelect,
        this.legend,
        h(
          'button',
          {
            onclick: () => {
              this.userMoved = false;
              this.fit(false);
            },
          },
          'Fit',
        ),
      ),
      this.canvas,
      this.boxList,
    );
    const relayout = () => {
      this.userMoved = false;
      this.layoutAt.version = -1;
    };
    app.onShownChange(() => {
      this.expanded.clear();
      relayout();
    });
    runs.onChange(relayout);
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

  /** The colour of a task box. */
  private colourOf(t: TaskView): string {
    return this.colourBy === 'state' ? (STATE_COLOURS[t.state] ?? '#888') : backendColour(t.backend);
  }

  private frame(): void {
    const store = this.app.shown;
    const now = performance.now();
    this.runs.refresh(store);
    const run = this.runs.selected(store);
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    const aspect = w && hgt ? w / hgt : 1.6;
    const at = this.layoutAt;
    const moved = at.run !== (run ?? '*') || Math.abs(at.aspect - aspect) > 0.25;
    const stale = at.version !== store.version || moved;
    const throttled = store.order.length > THROTTLE_ABOVE && now - at.time < GROUPED_RELAYOUT_MS;
    if (stale && (at.version < 0 || moved || !throttled)) {
      this.layout = layoutGraph(store, { jobId: run, expanded: this.expanded, aspect });
      this.layoutAt = { version: store.version, time: now, run: run ?? '*', aspect };
      this.drawn.key = '';
      this.updateLegend();
      this.updateBoxList();
      if (!this.userMoved && this.layout.boxes.length) this.fit(true);
    }
    const dpr = window.devicePixelRatio || 1;
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
    this.canvas.dataset.view = `${this.view.x},${this.view.y},${this.view.scale}`;
    const L = this.layout;
    if (L) this.draw(ctx, L, w, hgt, dpr);
  }

  private draw(ctx: CanvasRenderingContext2D, L: GraphLayout, w: number, hgt: number, dpr: number): void {
    const { x: ox, y: oy, scale: s } = this.view;
    const left = -ox / s;
    const top = -oy / s;
    const right = left + w / s;
    const bottom = top + hgt / s;
    const inView = (b: GraphBox) => b.x + b.w >= left && b.x <= right && b.y + b.h >= top && b.y <= bottom;
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * ox, dpr * oy);
    ctx.strokeStyle = 'rgba(90,100,130,0.45)';
    ctx.lineWidth = 1.2 / s;
    ctx.beginPath();
    let edgesDrawn = 0;
    for (const [a, b] of L.edges) {
      const A = L.boxes[a]!;
      const B = L.boxes[b]!;
      if (Math.max(A.x, B.x) + A.w < left || Math.min(A.x, B.x) > right) continue;
      if (Math.max(A.y, B.y) + A.h < top || Math.min(A.y, B.y) > bottom) continue;
      if (++edgesDrawn > 20_000) break;
      const ax = A.x + A.w;
      const ay = A.y + A.h / 2;
      const bx = B.x;
      const by = B.y + B.h / 2;
      ctx.moveTo(ax, ay);
      ctx.bezierCurveTo(ax + 20, ay, bx - 20, by, bx, by);
      // An arrowhead at the task that takes the result.
      ctx.moveTo(bx - 7, by - 4);
      ctx.lineTo(bx, by);
      ctx.lineTo(bx - 7, by + 4);
    }
    ctx.stroke();
    const visible = L.boxes.filter(inView);
    const store = this.app.shown;
    for (const b of visible) {
      const g = L.grouping.groups[b.group]!;
      if (b.kind === 'task' || b.id !== undefined) {
        const t = store.tasks.get(b.id!)!;
        ctx.fillStyle = this.colourOf(t);
        ctx.fillRect(b.x, b.y, b.w, b.h);
        if (this.colourBy === 'backend') {
          // The state stays visible as a stripe on the left.
          ctx.fillStyle = STATE_COLOURS[t.state] ?? '#888';
          ctx.fillRect(b.x, b.y, 5, b.h);
        }
        continue;
      }
      ctx.fillStyle = b.kind === 'frame' ? '#f2f4f7' : '#fff';
      ctx.fillRect(b.x, b.y, b.w, b.h);
      ctx.strokeStyle = '#98a2b3';
      ctx.lineWidth = 1 / s;
      ctx.strokeRect(b.x, b.y, b.w, b.h);
      if (b.kind === 'group') {
        // The bar: each state (or backend) as a share of the group's width.
        const parts: [string, number][] =
          this.colourBy === 'state'
            ? TASK_STATES.map((st, i) => [STATE_COLOURS[st] ?? '#888', g.states[i]!])
            : [...g.backends].map(([name, n]) => [backendColour(name || undefined), n]);
        this.bar(ctx, b, parts, g.ids.length, b.y + b.h - 9, this.colourBy === 'state' ? 8 : 5);
        if (this.colourBy === 'backend')
          this.bar(
            ctx,
            b,
            TASK_STATES.map((st, i) => [STATE_COLOURS[st] ?? '#888', g.states[i]!]),
            g.ids.length,
            b.y + b.h - 4,
            3,
          );
      }
    }
    // Labels at screen size, where a box is tall enough on screen to hold one.
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.textBaseline = 'middle';
    for (const b of visible) {
      const single = b.kind === 'task' || b.id !== undefined;
      const labelH = b.kind === 'frame' ? FRAME_HEAD : b.kind === 'group' && !single ? b.h - 9 : b.h;
      if (labelH * s < 11) continue;
      const big = b.kind !== 'task';
      ctx.font = big ? '600 12px system-ui, sans-serif' : '11px system-ui, sans-serif';
      ctx.fillStyle = single ? '#fff' : '#1d2430';
      const maxW = b.w * s - 12;
      if (maxW < 16) continue;
      const x = ox + b.x * s + 6;
      if (b.lines && b.kind !== 'task' && labelH * s >= 24) {
        // Name and count, then the iteration below it, muted.
        const mid = oy + (b.y + labelH / 2) * s;
        ctx.fillText(fitText(ctx, b.kind === 'frame' ? `▾ ${b.lines[0]}` : b.lines[0], maxW), x, mid - 7);
        ctx.font = '11px system-ui, sans-serif';
        if (!single) ctx.fillStyle = '#667085';
        ctx.fillText(fitText(ctx, b.lines[1], maxW), x, mid + 8);
        continue;
      }
      // One line: a group's iteration shortened ("circuit ×18 · it. 3") so that it fits where it can.
      const text = b.lines ? `${b.lines[0]} · ${b.lines[1].replace('iteration ', 'it. ')}` : b.label;
      if (b.lines) ctx.font = '600 11px system-ui, sans-serif';
      ctx.fillText(fitText(ctx, b.kind === 'frame' ? `▾ ${text}` : text, maxW), x, oy + (b.y + labelH / 2) * s);
    }
  }

  /** A bar across box `b` at height `y`: each part as its share of `total`. */
  private bar(
    ctx: CanvasRenderingContext2D,
    b: GraphBox,
    parts: [string, number][],
    total: number,
    y: number,
    hgt: number,
  ): void {
    let x = b.x + 1;
    const barW = b.w - 2;
    for (const [colour, n] of parts) {
      if (!n) continue;
      const pw = (barW * n) / total;
      ctx.fillStyle = colour;
      ctx.fillRect(x, y, pw, hgt);
      x += pw;
    }
  }

  private updateLegend(): void {
    const L = this.layout;
    if (!L) return;
    const states = TASK_STATES.map(() => 0);
    const backends = new Map<string, number>();
    let tasks = 0;
    for (const g of L.grouping.groups) {
      tasks += g.ids.length;
      for (let i = 0; i < states.length; i++) states[i]! += g.states[i]!;
      for (const [b, n] of g.backends) backends.set(b, (backends.get(b) ?? 0) + n);
    }
    const byState = this.colourBy === 'state';
    // While only counts change (tasks streaming in), the chips stay and their numbers change.
    const shape = `${byState}|${[...backends.keys()].join('\u0000')}`;
    const numbers = [`${tasks} tasks in ${L.grouping.groups.length} groups`, ...states.map(String)];
    if (!byState) numbers.push(...[...backends.values()].map(String));
    if (shape === this.legendShape) {
      const slots = this.legend.querySelectorAll('[data-legend-number]');
      numbers.forEach((text, i) => {
        const node = slots[i]?.firstChild as Text | null | undefined;
        if (node && node.data !== text) node.data = text;
      });
      return;
    }
    this.legendShape = shape;
    replace(
      this.legend,
      h('span', { 'data-testid': 'graph-total', 'data-legend-number': true }, numbers[0]!),
      ...TASK_STATES.map((s, i) =>
        h(
          'span',
          { class: 'chip', style: byState ? `border-color:${STATE_COLOURS[s]}` : '', title: s },
          `${STATE_WORDS[i]} `,
          h('b', { 'data-testid': `graph-count-${s}`, 'data-legend-number': true }, String(states[i])),
        ),
      ),
      byState ? null : h('span', { class: 'count' }, 'Backends:'),
      ...(byState
        ? []
        : [...backends].map(([b, n]) =>
            h(
              'span',
              { class: 'chip', style: `border-color:${backendColour(b || undefined)}`, 'data-testid': 'graph-backend' },
              `${b || 'unplaced'} `,
              h('b', { 'data-legend-number': true }, String(n)),
            ),
          )),
    );
  }

  /** Brings the text list in line with the layout, reusing its items (tasks stream in: no garbage per frame). */
  private updateBoxList(): void {
    const L = this.layout!;
    const items = this.boxList.children;
    const n = Math.min(L.boxes.length, BOXES_LISTED);
    for (let i = 0; i < n; i++) {
      const b = L.boxes[i]!;
      const g = L.grouping.groups[b.group]!;
      const states = TASK_STATES.flatMap((s, k) => (g.states[k] ? [`${s} ${g.states[k]}`] : []));
      const text = b.kind === 'task' ? b.label : `${b.label}: ${states.join(', ')}`;
      let li = items[i] as HTMLLIElement | undefined;
      if (!li) this.boxList.append((li = h('li', {}, '')));
      const attrs: [string, string | undefined][] = [
        ['data-kind', b.kind],
        ['data-box', `${b.x},${b.y},${b.w},${b.h}`],
        ['data-id', b.id],
        ['data-label', b.label],
      ];
      for (const [k, v] of attrs) {
        if (v === undefined) li.removeAttribute(k);
        else if (li.getAttribute(k) !== v) li.setAttribute(k, v);
      }
      setText(li, text);
    }
    while (items.length > n) items[items.length - 1]!.remove();
  }

  /** Zooms to show the whole graph (`readable`: not below a scale where labels can be read). */
  private fit(readable: boolean): void {
    const L = this.layout;
    if (!L || !this.canvas.clientWidth) return;
    const all = Math.min(this.canvas.clientWidth / (L.width + 40), this.canvas.clientHeight / (L.height + 40));
    const s = Math.min(1.2, Math.max(readable ? READABLE_SCALE : 0.02, all));
    this.view = { x: 20 * s, y: 20 * s, scale: s };
    this.drawn.key = '';
  }

  private zoom(factor: number, cx: number, cy: number): void {
    this.userMoved = true;
    const s = Math.min(8, Math.max(0.01, this.view.scale * factor));
    const k = s / this.view.scale;
    this.view = { x: cx - (cx - this.view.x) * k, y: cy - (cy - this.view.y) * k, scale: s };
  }

  private toGraph(e: MouseEvent): [number, number] {
    return [(e.offsetX - this.view.x) / this.view.scale, (e.offsetY - this.view.y) / this.view.scale];
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
      if (!drag) {
        const b = this.layout && hitTest(this.layout, ...this.toGraph(e));
        const title = b ? this.tooltip(b) : '';
        if (c.title !== title) c.title = title;
        c.style.cursor = b ? 'pointer' : '';
        return;
      }
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
      if (clicked) this.open(...this.toGraph(e));
    });
    c.addEventListener('keydown', (e) => {
      const step = 60;
      const pans: Record<string, [number, number]> = {
        ArrowLeft: [step, 0],
        ArrowRight: [-step, 0],
        ArrowUp: [0, step],
        ArrowDown: [0, -step],
      };
      const pan = Object.hasOwn(pans, e.key) ? pans[e.key] : undefined;
      if (pan) {
        this.userMoved = true;
        this.view = { ...this.view, x: this.view.x + pan[0], y: this.view.y + pan[1] };
      } else if (e.key === '+' || e.key === '=') this.zoom(1.25, c.clientWidth / 2, c.clientHeight / 2);
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

  /** A box's tooltip: its whole label, and a group's states. */
  private tooltip(b: GraphBox): string {
    const g = this.layout!.grouping.groups[b.group]!;
    if (b.id !== undefined) {
      const t = this.app.shown.tasks.get(b.id);
      return t ? `${b.label}\n${t.state}${t.backend ? ` on ${t.backend}` : ''}\n${t.id}` : b.label;
    }
    const states = TASK_STATES.filter((_, i) => g.states[i]).map((s) => `${s} ${g.states[TASK_STATES.indexOf(s)]}`);
    return `${b.label}\n${states.join(', ')}\n${b.kind === 'frame' ? 'Click for its summary' : 'Click to expand'}`;
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
    if (b.id !== undefined) return void openTask(this.app, b.id, this.app.shown.replayOf);
    const g = L.grouping.groups[b.group]!;
    const toggle = (open: boolean) => {
      if (open) this.expanded.add(g.key);
      else this.expanded.delete(g.key);
      this.layoutAt.version = -1;
    };
    if (b.kind === 'group') toggle(true);
    const expandedNow = this.expanded.has(g.key);
    this.app.openPanel(
      b.label,
      groupSummary(
        this.app,
        g,
        h(
          'button',
          {
            'data-testid': 'group-toggle',
            onclick: (e) => {
              const open = !this.expanded.has(g.key);
              toggle(open);
              (e.target as HTMLButtonElement).textContent = open ? 'Collapse in graph' : 'Expand in graph';
            },
          },
          expandedNow ? 'Collapse in graph' : 'Expand in graph',
        ),
      ),
    );
  }
}
