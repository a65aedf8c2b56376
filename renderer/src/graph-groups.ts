/**
 * Fan-outs of the task graph: tasks of one run, one submitter and one name that were submitted
 * together form a group. A task submitted after every earlier task of its open group had ended
 * starts the next iteration when its submitter submitted other work in between or paused
 * (a driver loop that submits 18 `circuit` tasks, waits, runs an `optimiser-step` and submits
 * 18 more yields "circuit ×18 (iteration 0)", "circuit ×18 (iteration 1)"...), so the graph of
 * a 100,000-task run is a few groups at any size.
 */
import { TASK_STATES, type TaskState, type TaskView } from './api-types.ts';
import type { TaskStore } from './task-store.ts';

/** More groups than this means iterations are noise (every task alone): group by name only. */
const MAX_GROUPS = 2000;
/**
 * A task of a name submitted this long after its group's last end starts the next iteration
 * even when its submitter submitted nothing else in between (a loop over one function that
 * waits and thinks); a shorter pause without anything else in between is one stream of work.
 */
const PAUSE_MS = 250;

/** One fan-out: tasks of one run, submitter and name submitted in one iteration. */
export interface TaskGroup {
  /** Stable across layouts while tasks stream in (the expanded set is keyed on it). */
  readonly key: string;
  readonly name: string;
  readonly jobId: string;
  readonly iteration: number;
  /** Member task ids in arrival order. */
  readonly ids: string[];
  /** Members per state, indexed like TASK_STATES. */
  readonly states: number[];
  /** Members per backend ('' while unplaced). */
  readonly backends: Map<string, number>;
}

/** The groups of a store's tasks (one run, or all). */
export interface Grouping {
  readonly groups: TaskGroup[];
  /** Iterations per run, submitter and name: a label says "iteration k" only where there are several. */
  readonly iterations: Map<string, number>;
  /** Whether any task takes a ref argument or calls an actor (else there are no edges to find). */
  readonly linked: boolean;
}

const STATE_INDEX = new Map<TaskState, number>(TASK_STATES.map((s, i) => [s, i]));

/** Tasks of `store` in arrival order, of run `jobId` only when given. */
export function* tasksOfRun(store: TaskStore, jobId: string | undefined): Generator<TaskView> {
  for (const t of store.tasks.values()) if (jobId === undefined || (t.jobId ?? '') === jobId) yield t;
}

/** Groups the tasks of run `jobId` (every run when undefined); see the module comment. */
export function groupTasks(store: TaskStore, jobId: string | undefined, byIteration = true): Grouping {
  const groups: TaskGroup[] = [];
  const iterations = new Map<string, number>();
  /** Per stream: the open group, its unfinished members and its latest end. */
  const open = new Map<string, { gi: number; unfinished: number; lastEnd: number }>();
  /** Per submitter (run and parent task): the stream of its latest task. */
  const lastStreamOf = new Map<string, string>();
  let linked = false;
  // Fan-outs arrive in runs of one name: the last task's stream is reused without a key.
  let last: TaskView | undefined;
  let stream = '';
  let o: { gi: number; unfinished: number; lastEnd: number } | undefined;
  for (const t of store.tasks.values()) {
    if (jobId !== undefined && (t.jobId ?? '') !== jobId) continue;
    if (t.deps.length || t.kind === 'actor-call') linked = true;
    // Whether the submitter submitted something else since this stream's last task.
    let interleaved = false;
    if (!last || last.name !== t.name || last.parentId !== t.parentId || last.jobId !== t.jobId) {
      const submitter = `${t.jobId ?? ''}\u0000${t.parentId ?? ''}`;
      stream = `${submitter}\u0000${t.name}`;
      const before = lastStreamOf.get(submitter);
      interleaved = before !== undefined && before !== stream;
      lastStreamOf.set(submitter, stream);
      o = open.get(stream);
    }
    last = t;
    const ended = o !== undefined && o.unfinished === 0 && t.submittedAt >= o.lastEnd;
    if (!o || (byIteration && ended && (interleaved || t.submittedAt - o.lastEnd >= PAUSE_MS))) {
      const iteration = iterations.get(stream) ?? 0;
      iterations.set(stream, iteration + 1);
      o = { gi: groups.length, unfinished: 0, lastEnd: 0 };
      open.set(stream, o);
      groups.push({
        key: `${stream}\u0000${iteration}`,
        name: t.name,
        jobId: t.jobId ?? '',
        iteration,
        ids: [],
        states: TASK_STATES.map(() => 0),
        backends: new Map(),
      });
    }
    const g = groups[o.gi]!;
    g.ids.push(t.id);
    g.states[STATE_INDEX.get(t.state) ?? 0]!++;
    const backend = t.backend ?? '';
    g.backends.set(backend, (g.backends.get(backend) ?? 0) + 1);
    if (t.endedAt === undefined) o.unfinished++;
    else o.lastEnd = Math.max(o.lastEnd, t.endedAt);
  }
  if (byIteration && groups.length > MAX_GROUPS) return groupTasks(store, jobId, false);
  return { groups, iterations, linked };
}

/** Each task's group index (built only where edges are wanted). */
export function groupIndex(grouping: Grouping): Map<string, number> {
  const out = new Map<string, number>();
  grouping.groups.forEach((g, gi) => {
    for (const id of g.ids) out.set(id, gi);
  });
  return out;
}

/** "circuit ×18 (iteration 3)"; the iteration only where its name has several. */
export function groupLabel(g: TaskGroup, grouping: Grouping): string {
  const stream = g.key.slice(0, g.key.lastIndexOf('\u0000'));
  const several = (grouping.iterations.get(stream) ?? 1) > 1;
  return `${g.name} ×${g.ids.length}${several ? ` (iteration ${g.iteration})` : ''}`;
}
