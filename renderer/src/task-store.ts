/**
 * The dashboard's model of one run: tasks by id (in arrival order for the tables), nodes,
 * usage samples and recent log lines. A live store follows /api/events; a replay store holds a
 * finished session's tasks. Views redraw on `changed`, at most once per animation frame.
 */
import type {
  LogLine,
  NodeRow,
  NodeUsageSample,
  SessionNodeRow,
  TaskState,
  TaskView,
  UsageSample,
} from './api-types.ts';
import type { AttemptLine } from './log-lines.ts';
import { shortId } from './short-id.ts';
import { RunStore } from './run-store.ts';

/** Log lines kept per task and per node (older ones drop off; the head keeps them all). */
const LOG_LINES_KEPT = 2000;
/** Usage samples kept for the chart (about 10 minutes at 10 per second). */
const USAGE_KEPT = 6000;
/** Usage samples kept per node: the head's hour at one per 2 s, and its minute averages. */
const NODE_USAGE_KEPT = 1800 + 1440;

/** Tasks, nodes, usage and logs of one run. */
export class TaskStore {
  /** Tasks by id, in arrival order (an update keeps a task's place): the hot loops walk it, not `order`. */
  readonly tasks = new Map<string, TaskView>();
  /** Task ids in arrival order, the tables' base order. */
  readonly order: string[] = [];
  readonly counts = new Map<TaskState, number>();
  nodes: NodeRow[] = [];
  /** A replay's nodes as the session recorded them (empty: it recorded none); unused live. */
  recordedNodes: SessionNodeRow[] = [];
  readonly usage: UsageSample[] = [];
  /** Usage history per node (CPU, memory, GPUs, QPU slots): the head's, or what a replayed session recorded. */
  readonly nodeUsage = new Map<string, NodeUsageSample[]>();
  /** Bumped when usage samples arrive, so the charts redraw only then. */
  usageVersion = 0;
  readonly taskLogs = new Map<string, string[]>();
  readonly nodeLogs = new Map<string, string[]>();
  /** The attempt of each line of `taskLogs` (same positions). */
  readonly taskLogAttempts = new Map<string, number[]>();
  /**
   * Each task's place among the tasks of its name (1 for the first), for labels like `circuit#12`:
   * worked out when a label is first wanted, for the first `labelled` tasks of `order` (not on a
   * 100,000-task snapshot's load path).
   */
  private readonly nameOrdinals = new Map<string, number>();
  private readonly nameCounts = new Map<string, number>();
  private labelled = 0;
  /** Bumped on every change so views can tell whether to redraw. */
  version = 0;
  /** Bumped when tasks are added or removed (not just updated), for sorted/filtered caches. */
  shapeVersion = 0;
  /** Bumped by reset(), so caches keyed on arrival order start over. */
  generation = 0;
  private readonly listeners = new Set<() => void>();
  private scheduled = false;
  /** The drivers' runs and their logged metrics (Runs tab). */
  readonly runs = new RunStore(() => this.touch());

  constructor(
    /** Session name for a replay; undefined for the live run. */
    readonly replayOf?: string,
  ) {}

  /** Replaces everything (a snapshot). */
  reset(tasks: readonly TaskView[], nodes: readonly NodeRow[]): void {
    this.tasks.clear();
    this.order.length = 0;
    this.counts.clear();
    this.nameCounts.clear();
    this.nameOrdinals.clear();
    this.labelled = 0;
    this.runs.clearProgress();
    this.generation++;
    this.nodes = [...nodes];
    this.upsert(tasks);
    this.shapeVersion++;
    this.touch();
  }

  /** Adds or updates tasks. */
  upsert(tasks: readonly TaskView[]): void {
    for (const t of tasks) {
      const old = this.tasks.get(t.id);
      if (old) this.counts.set(old.state, (this.counts.get(old.state) ?? 1) - 1);
      else {
        this.order.push(t.id);
        this.shapeVersion++;
      }
      this.runs.countTask(old, t);
      this.tasks.set(t.id, t);
      this.counts.set(t.state, (this.counts.get(t.state) ?? 0) + 1);
    }
    if (tasks.length) this.touch();
  }

  setNodes(nodes: readonly NodeRow[]): void {
    this.nodes = [...nodes];
    this.touch();
  }

  addUsage(u: UsageSample): void {
    this.usage.push(u);
    if (this.usage.length > USAGE_KEPT) this.usage.splice(0, this.usage.length - USAGE_KEPT);
    this.touch();
  }

  /** Replaces the cluster-wide usage samples (a snapshot's). */
  setUsage(samples: readonly UsageSample[]): void {
    this.usage.length = 0;
    this.usage.push(...samples.slice(-USAGE_KEPT));
    this.touch();
  }

  /** Replaces the usage history (a snapshot's, or a replayed session's). */
  setNodeUsage(samples: readonly NodeUsageSample[]): void {
    this.nodeUsage.clear();
    this.addNodeUsage(samples);
  }

  /** Adds usage samples, each to its node's history. */
  addNodeUsage(samples: readonly NodeUsageSample[]): void {
    for (const s of samples) {
      let kept = this.nodeUsage.get(s.nodeId);
      if (!kept) this.nodeUsage.set(s.nodeId, (kept = []));
      kept.push(s);
      if (kept.length > NODE_USAGE_KEPT * 1.1) kept.splice(0, kept.length - NODE_USAGE_KEPT);
    }
    this.usageVersion++;
    this.touch();
  }

  addLogs(lines: readonly LogLine[]): void {
    for (const l of lines) {
      for (const line of l.text.replace(/\n$/, '').split('\n')) {
        const text = l.stream === 'stderr' ? `[err] ${line}` : line;
        if (l.taskId) {
          push(this.taskLogs, l.taskId, text);
          push(this.taskLogAttempts, l.taskId, l.attempt ?? 0);
        }
        push(this.nodeLogs, l.nodeId, l.taskId ? `${this.taskLabel(l.taskId)} ${text}` : text);
      }
    }
    if (lines.length) this.touch();
  }

  /** A task's lines streamed since the page loaded, with their attempts. */
  taskLines(taskId: string): AttemptLine[] {
    const attempts = this.taskLogAttempts.get(taskId) ?? [];
    return (this.taskLogs.get(taskId) ?? []).map((text, i) => ({ text, attempt: attempts[i] }));
  }

  /** A task as a log line names it: `name#n` (its place among tasks of that name), else its id's end. */
  taskLabel(taskId: string): string {
    const t = this.tasks.get(taskId);
    const n = this.ordinal(taskId);
    return t && n !== undefined ? `${t.name}#${n}` : shortId(taskId);
  }

  private ordinal(taskId: string): number | undefined {
    for (; this.labelled < this.order.length; this.labelled++) {
      const id = this.order[this.labelled]!;
      const name = this.tasks.get(id)!.name;
      const n = (this.nameCounts.get(name) ?? 0) + 1;
      this.nameCounts.set(name, n);
      this.nameOrdinals.set(id, n);
    }
    return this.nameOrdinals.get(taskId);
  }

  /** The task a `name#n` label names (as log lines show it), if the dashboard holds it. */
  taskByLabel(label: string): string | undefined {
    const m = /^(.+)#(\d+)$/.exec(label);
    if (!m) return undefined;
    const n = Number(m[2]);
    this.ordinal('');
    for (const [id, ordinal] of this.nameOrdinals) if (ordinal === n && this.tasks.get(id)?.name === m[1]) return id;
    return undefined;
  }

  /** Calls `fn` (once per frame at most) after changes; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private touch(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      for (const fn of this.listeners) fn();
    });
  }
}

function push<T>(map: Map<string, T[]>, key: string, line: T): void {
  let lines = map.get(key);
  if (!lines) map.set(key, (lines = []));
  lines.push(line);
  if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
}
