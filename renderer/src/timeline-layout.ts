/**
 * The timeline's lanes: one group of lanes per node, one lane per worker slot within it. The
 * head does not send worker ids, so a node's tasks are packed, by start, into the fewest lanes
 * where none overlap (as many lanes as the node ran tasks at once: its busy workers). Each
 * lane's bars are sorted by start, and since they do not overlap, by end too, so a draw or a
 * hit test finds the bars in view by binary search.
 */
import type { TaskStore } from './task-store.ts';
import { tasksOfRun } from './graph-groups.ts';

/** One lane: bars of one node that never overlap, by start time. */
export interface TimelineLane {
  readonly nodeId: string;
  readonly backend: string;
  /** 0 for a node's first lane. */
  readonly slot: number;
  readonly starts: number[];
  /** End times; Infinity while the task runs (drawn up to now). */
  readonly ends: number[];
  readonly ids: string[];
}

/** Lanes of one run, and its time span. */
export interface TimelineLayout {
  readonly lanes: TimelineLane[];
  readonly nodes: number;
  readonly bars: number;
  readonly start: number;
  /** The last end, or now while a task runs. */
  readonly end: number;
}

/** Lays out the started tasks of run `jobId` (every run when undefined). */
export function layoutTimeline(store: TaskStore, jobId: string | undefined, now: number): TimelineLayout {
  const byNode = new Map<string, { backend: string; tasks: { s: number; e: number; id: string }[] }>();
  let start = Infinity;
  let end = -Infinity;
  let bars = 0;
  for (const t of tasksOfRun(store, jobId)) {
    if (t.startedAt === undefined) continue;
    const nodeId = t.nodeId ?? '';
    let n = byNode.get(nodeId);
    if (!n) byNode.set(nodeId, (n = { backend: t.backend ?? '', tasks: [] }));
    const e = t.endedAt ?? Infinity;
    n.tasks.push({ s: t.startedAt, e, id: t.id });
    start = Math.min(start, t.startedAt);
    end = Math.max(end, Number.isFinite(e) ? e : now);
    bars++;
  }
  const lanes: TimelineLane[] = [];
  const nodes = [...byNode].sort((a, b) => a[1].backend.localeCompare(b[1].backend) || a[0].localeCompare(b[0]));
  for (const [nodeId, n] of nodes) {
    n.tasks.sort((a, b) => a.s - b.s || a.e - b.e);
    const own: TimelineLane[] = [];
    // Lanes by the end of their last bar (a binary min-heap): a task takes the lane that
    // freed first, if it is free at its start, else a new one.
    const heap: TimelineLane[] = [];
    const endOf = (l: TimelineLane) => l.ends[l.ends.length - 1]!;
    for (const t of n.tasks) {
      let lane = heap[0];
      if (lane && endOf(lane) <= t.s) {
        lane.starts.push(t.s);
        lane.ends.push(t.e);
        lane.ids.push(t.id);
        siftDown(heap, 0, endOf);
        continue;
      }
      lane = { nodeId, backend: n.backend, slot: own.length, starts: [t.s], ends: [t.e], ids: [t.id] };
      own.push(lane);
      heap.push(lane);
      siftUp(heap, heap.length - 1, endOf);
    }
    lanes.push(...own);
  }
  if (!bars) return { lanes, nodes: 0, bars: 0, start: now, end: now };
  return { lanes, nodes: byNode.size, bars, start, end: Math.max(end, start + 1) };
}

function siftUp<T>(heap: T[], i: number, key: (x: T) => number): void {
  while (i > 0) {
    const up = (i - 1) >> 1;
    if (key(heap[up]!) <= key(heap[i]!)) return;
    [heap[up], heap[i]] = [heap[i]!, heap[up]!];
    i = up;
  }
}

function siftDown<T>(heap: T[], i: number, key: (x: T) => number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let min = i;
    if (l < heap.length && key(heap[l]!) < key(heap[min]!)) min = l;
    if (r < heap.length && key(heap[r]!) < key(heap[min]!)) min = r;
    if (min === i) return;
    [heap[min], heap[i]] = [heap[i]!, heap[min]!];
    i = min;
  }
}

/** Index of the first bar of `lane` that ends at or after `t` (its bars' ends are sorted). */
export function firstEndingAfter(lane: TimelineLane, t: number): number {
  let lo = 0;
  let hi = lane.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lane.ends[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The task of `lane` running at time `t`, if any. */
export function barAt(lane: TimelineLane, t: number, now: number): string | undefined {
  const i = firstEndingAfter(lane, t);
  if (i >= lane.starts.length || lane.starts[i]! > t) return undefined;
  return Math.min(lane.ends[i]!, now) >= t ? lane.ids[i] : undefined;
}
