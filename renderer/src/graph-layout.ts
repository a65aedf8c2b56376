/**
 * Lays out the task graph: a task's column is its dependency depth (1 + the deepest task whose
 * result it takes; an actor call also hangs off its actor's creation task), rows follow
 * arrival order. Above GROUP_THRESHOLD tasks, tasks of the same column, name and state become one
 * box with a count, so a 100,000-task run draws a few hundred boxes.
 */
import type { TaskView } from './api-types.ts';
import { backendColour, STATE_COLOURS } from './dom.ts';
import type { TaskStore } from './task-store.ts';

/** Above this many tasks the graph groups them. */
export const GROUP_THRESHOLD = 2000;
/** Width of a column, height of a row, in graph units. */
export const COL_W = 180;
export const ROW_H = 22;
const BOX_W = 150;
const BOX_H = 16;

/** One box: a task, or a group of tasks with the same column, name and state. */
export interface GraphBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly label: string;
  readonly fill: string;
  readonly stroke: string;
  /** The task id of a single-task box; undefined for a group. */
  readonly id?: string;
  /** Tasks in the box (1 for a single task). */
  readonly count: number;
  /** Column, name and state of a group, to list its tasks on demand. */
  readonly group?: { readonly col: number; readonly name: string; readonly state: string };
}

/** Boxes, edges between them (indices), and columns of box indices for hit tests. */
export interface GraphLayout {
  readonly boxes: GraphBox[];
  readonly edges: [number, number][];
  readonly columns: number[][];
  readonly grouped: boolean;
  readonly width: number;
  readonly height: number;
}

/**
 * Dependency depths, kept across frames: a task's deps never change, so only tasks that arrived
 * since the last call are computed (a 100,000-task run costs nothing per frame after loading).
 */
export class DepthCache {
  private readonly depth = new Map<string, number>();
  private readonly creator = new Map<string, string>();
  private done = 0;
  private store: TaskStore | undefined;
  private generation = -1;

  /** Depths of every task of `store` (starting over when the store changed or was reset). */
  of(store: TaskStore): Map<string, number> {
    if (store !== this.store || store.generation !== this.generation) {
      this.store = store;
      this.generation = store.generation;
      this.depth.clear();
      this.creator.clear();
      this.done = 0;
    }
    for (; this.done < store.order.length; this.done++) {
      const id = store.order[this.done]!;
      const t = store.tasks.get(id)!;
      if (t.kind === 'actor-create' && t.actorId) this.creator.set(t.actorId, id);
      let d = 0;
      for (const p of parents(t, this.creator)) d = Math.max(d, (this.depth.get(p) ?? -1) + 1);
      this.depth.set(id, d);
    }
    return this.depth;
  }
}

function parents(t: TaskView, creator: Map<string, string>): string[] {
  const out = [...t.deps];
  if (t.kind === 'actor-call' && t.actorId) {
    const c = creator.get(t.actorId);
    if (c && c !== t.id) out.push(c);
  }
  return out;
}

/** Lays out the store's tasks (see the module comment). */
export function layoutGraph(store: TaskStore, depth: Map<string, number>): GraphLayout {
  const grouped = store.order.length > GROUP_THRESHOLD;
  const boxes: GraphBox[] = [];
  const columns: number[][] = [];
  const boxOf = new Map<string, number>();
  const groupIndex = new Map<string, number>();
  const groupCount: number[] = [];
  for (const id of store.order) {
    const t = store.tasks.get(id)!;
    const col = depth.get(id) ?? 0;
    const column = (columns[col] ??= []);
    if (grouped) {
      const key = `${col}\u0000${t.name}\u0000${t.state}`;
      let gi = groupIndex.get(key);
      if (gi === undefined) {
        gi = boxes.length;
        groupIndex.set(key, gi);
        groupCount.push(0);
        boxes.push(box(col, column.length, t, undefined));
        column.push(gi);
      }
      groupCount[gi]!++;
      boxOf.set(id, gi);
    } else {
      boxOf.set(id, boxes.length);
      column.push(boxes.length);
      boxes.push(box(col, column.length - 1, t, id));
    }
  }
  if (grouped) {
    boxes.forEach((b, i) => {
      boxes[i] = { ...b, count: groupCount[i]!, label: `${b.label} ×${groupCount[i]}` };
    });
  }
  const edges: [number, number][] = [];
  const seen = new Set<number>();
  const creator = new Map<string, string>();
  for (const id of store.order) {
    const t = store.tasks.get(id)!;
    if (t.kind === 'actor-create' && t.actorId) creator.set(t.actorId, id);
  }
  for (const id of store.order) {
    const to = boxOf.get(id)!;
    for (const p of parents(store.tasks.get(id)!, creator)) {
      const from = boxOf.get(p);
      if (from === undefined || from === to) continue;
      const key = from * 1_000_003 + to;
      if (grouped && seen.has(key)) continue;
      seen.add(key);
      edges.push([from, to]);
    }
  }
  const rows = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  return {
    boxes,
    edges,
    columns: columns.map((c) => c ?? []),
    grouped,
    width: columns.length * COL_W,
    height: rows * ROW_H,
  };
}

function box(col: number, row: number, t: TaskView, id: string | undefined): GraphBox {
  const label = `${t.name} ${t.state === 'FINISHED' ? '✓' : t.state === 'FAILED' ? '✗' : ''}`.trim();
  const base = {
    x: col * COL_W,
    y: row * ROW_H,
    w: BOX_W,
    h: BOX_H,
    label,
    fill: STATE_COLOURS[t.state] ?? '#888',
    stroke: backendColour(t.backend),
    count: 1,
  };
  return id === undefined ? { ...base, group: { col, name: t.name, state: t.state } } : { ...base, id };
}

/** The ids of the tasks in a group box (found when the user opens it, not on every layout). */
export function groupMembers(
  store: TaskStore,
  depth: Map<string, number>,
  g: NonNullable<GraphBox['group']>,
  max: number,
): string[] {
  const out: string[] = [];
  for (const id of store.order) {
    const t = store.tasks.get(id)!;
    if (t.name === g.name && t.state === g.state && depth.get(id) === g.col) out.push(id);
    if (out.length >= max) break;
  }
  return out;
}

/** The box under graph point (x, y), if any. */
export function hitTest(layout: GraphLayout, x: number, y: number): GraphBox | undefined {
  const col = Math.floor(x / COL_W);
  const row = Math.floor(y / ROW_H);
  const i = layout.columns[col]?.[row];
  if (i === undefined) return undefined;
  const b = layout.boxes[i]!;
  return x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h ? b : undefined;
}
