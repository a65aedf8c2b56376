/**
 * Lays out the task graph as groups (graph-groups.ts): one row per run and iteration, groups
 * left to right in submission order (a task takes only refs made before it, so arguments flow
 * left to right), long runs of rows wrapped into side-by-side bands to fill a wide window. A
 * group the user expanded becomes a frame holding a box per task. Edges join the boxes of
 * tasks whose results are passed as arguments (and an actor's calls to its creation).
 */
import type { TaskView } from './api-types.ts';
import { groupIndex, groupLabel, groupTasks, type Grouping } from './graph-groups.ts';
import { shortId } from './short-id.ts';
import type { TaskStore } from './task-store.ts';

/** Group box and task box sizes, gaps, in graph units. */
export const GROUP_W = 230;
export const GROUP_H = 46;
const SLOT_GAP = 40;
const ROW_GAP = 18;
const BAND_GAP = 80;
const TASK_W = 170;
const TASK_H = 18;
const TASK_ROW = 22;
/** Height of an expanded group's heading (two lines of label). */
export const FRAME_HEAD = 40;
/** Tasks per column in an expanded group, and the most an expanded group draws. */
const EXPANDED_ROWS = 25;
export const EXPANDED_MAX = 1000;
/** Groups per line of a row before it wraps. */
const SLOTS_PER_LINE = 6;

/** A drawn box: a group, an expanded group's frame, or one task. */
export interface GraphBox {
  readonly kind: 'group' | 'frame' | 'task';
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** The full label (drawn with an ellipsis where it does not fit; the tooltip has it whole). */
  readonly label: string;
  /** A group's label on two lines where the box is tall enough: name and count, then the iteration. */
  readonly lines?: readonly [string, string];
  /** Index into the grouping's groups. */
  readonly group: number;
  /** The task of a task box, or of a group of one. */
  readonly id?: string;
}

/** Boxes, edges between them (indices), the grouping, and the size. */
export interface GraphLayout {
  readonly boxes: GraphBox[];
  readonly edges: [number, number][];
  readonly grouping: Grouping;
  readonly width: number;
  readonly height: number;
}

/** What to lay out: which run, which groups are expanded, the view's width/height ratio. */
export interface LayoutOptions {
  readonly jobId: string | undefined;
  readonly expanded: ReadonlySet<string>;
  readonly aspect: number;
}

function parents(t: TaskView, creator: Map<string, string>): string[] {
  if (t.kind !== 'actor-call' || !t.actorId) return t.deps as string[];
  const c = creator.get(t.actorId);
  return c && c !== t.id ? [...t.deps, c] : (t.deps as string[]);
}

/** Lays out the store's tasks of one run (see the module comment). */
export function layoutGraph(store: TaskStore, opts: LayoutOptions): GraphLayout {
  const grouping = groupTasks(store, opts.jobId);
  const { groups } = grouping;
  const rowOf = new Map<string, number[]>();
  groups.forEach((g, gi) => {
    const key = `${g.jobId}\u0000${g.iteration}`;
    let row = rowOf.get(key);
    if (!row) rowOf.set(key, (row = []));
    row.push(gi);
  });
  // Place each row at x = 0 first, then deal the rows into bands.
  const boxes: GraphBox[] = [];
  const boxOfTask = new Map<string, number>();
  const boxOfGroup: number[] = [];
  const rows: { first: number; end: number; w: number; h: number }[] = [];
  for (const row of rowOf.values()) {
    const first = boxes.length;
    let x = 0;
    let y = 0;
    let lineH = 0;
    let w = 0;
    row.forEach((gi, slot) => {
      if (slot > 0 && slot % SLOTS_PER_LINE === 0) {
        x = 0;
        y += lineH + ROW_GAP;
        lineH = 0;
      }
      const g = groups[gi]!;
      const label = g.ids.length === 1 ? groupLabel(g, grouping).replace(/ ×1\b/, '') : groupLabel(g, grouping);
      const cut = label.lastIndexOf(' (iteration ');
      const lines: [string, string] | undefined = cut > 0 ? [label.slice(0, cut), label.slice(cut + 2, -1)] : undefined;
      boxOfGroup[gi] = boxes.length;
      let bw = GROUP_W;
      let bh = GROUP_H;
      if (opts.expanded.has(g.key) && g.ids.length > 1) {
        const n = Math.min(g.ids.length, EXPANDED_MAX);
        const cols = Math.ceil(n / EXPANDED_ROWS);
        const perCol = Math.ceil(n / cols);
        bw = Math.max(GROUP_W, cols * (TASK_W + 10) + 10);
        bh = FRAME_HEAD + perCol * TASK_ROW + 6;
        // A frame of a bigger group says how many of its tasks it draws (the summary covers all).
        const more = n < g.ids.length ? `first ${n} shown` : '';
        const frameLines: [string, string] | undefined = more
          ? [lines?.[0] ?? label, lines ? `${lines[1]} · ${more}` : more]
          : lines;
        boxes.push({ kind: 'frame', x, y, w: bw, h: bh, label, lines: frameLines, group: gi });
        for (let i = 0; i < n; i++) {
          const id = g.ids[i]!;
          boxOfTask.set(id, boxes.length);
          const t = store.tasks.get(id)!;
          boxes.push({
            kind: 'task',
            x: x + 10 + Math.floor(i / perCol) * (TASK_W + 10),
            y: y + FRAME_HEAD + (i % perCol) * TASK_ROW,
            w: TASK_W,
            h: TASK_H,
            label: `${t.name} ${shortId(id)}`,
            group: gi,
            id,
          });
        }
      } else {
        const id = g.ids.length === 1 ? g.ids[0] : undefined;
        boxes.push({ kind: 'group', x, y, w: bw, h: bh, label, lines, group: gi, id });
      }
      x += bw + SLOT_GAP;
      w = Math.max(w, x - SLOT_GAP);
      lineH = Math.max(lineH, bh);
    });
    rows.push({ first, end: boxes.length, w, h: y + lineH });
  }
  // Bands: as many as make the whole about as wide as the view, each holding whole rows.
  const rowsW = Math.max(GROUP_W, ...rows.map((r) => r.w));
  const totalH = rows.reduce((s, r) => s + r.h + ROW_GAP, 0);
  const bands = Math.max(1, Math.min(rows.length, Math.round(Math.sqrt((totalH * opts.aspect) / (rowsW + BAND_GAP)))));
  const bandH = totalH / bands;
  let bandX = 0;
  let y = 0;
  let height = 0;
  let bandW = 0;
  for (const r of rows) {
    if (y > 0 && y + r.h / 2 > bandH) {
      bandX += bandW + BAND_GAP;
      bandW = 0;
      y = 0;
    }
    for (let i = r.first; i < r.end; i++) boxes[i] = { ...boxes[i]!, x: boxes[i]!.x + bandX, y: boxes[i]!.y + y };
    bandW = Math.max(bandW, r.w);
    y += r.h + ROW_GAP;
    height = Math.max(height, y - ROW_GAP);
  }
  return { boxes, edges: edgesOf(store, grouping, boxOfTask, boxOfGroup), grouping, width: bandX + bandW, height };
}

/** Box-to-box edges of argument refs and actor calls, each pair once. */
function edgesOf(
  store: TaskStore,
  grouping: Grouping,
  boxOfTask: Map<string, number>,
  boxOfGroup: number[],
): [number, number][] {
  if (!grouping.linked) return [];
  const groupOf = groupIndex(grouping);
  const creator = new Map<string, string>();
  for (const id of groupOf.keys()) {
    const t = store.tasks.get(id)!;
    if (t.kind === 'actor-create' && t.actorId) creator.set(t.actorId, id);
  }
  const boxOf = (id: string): number | undefined => {
    const b = boxOfTask.get(id);
    if (b !== undefined) return b;
    const gi = groupOf.get(id);
    return gi === undefined ? undefined : boxOfGroup[gi];
  };
  const edges: [number, number][] = [];
  const seen = new Set<number>();
  for (const id of groupOf.keys()) {
    const t = store.tasks.get(id)!;
    if (!t.deps.length && t.kind !== 'actor-call') continue;
    const to = boxOf(id)!;
    for (const p of parents(t, creator)) {
      const from = boxOf(p);
      if (from === undefined || from === to) continue;
      const key = from * 1_000_003 + to;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push([from, to]);
    }
  }
  return edges;
}

/** The topmost box under graph point (x, y), if any: a task before its frame. */
export function hitTest(layout: GraphLayout, x: number, y: number): GraphBox | undefined {
  let hit: GraphBox | undefined;
  for (const b of layout.boxes) {
    if (x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h && (!hit || b.kind === 'task')) hit = b;
  }
  return hit;
}
