/**
 * The dashboard's view of the head's HTTP and WebSocket API (orchestrator/service's dashboard
 * routes). Task and node rows come from the head's own dependency-free declaration
 * (orchestrator/protocol/state-rows.ts), so they cannot drift; the rest is kept here, so the
 * renderer depends on the wire contract only and never on other orchestrator code.
 */
export {
  TASK_STATES,
  type CompareSection,
  type CompareSide,
  type CompareValueRow,
  type CountsDiff,
  type MultiSessionComparison,
  type NodeRow,
  type ResultDiff,
  type SessionComparison,
  type SessionNodeRow,
  type SessionRow,
  type TaskComparison,
  type TaskState,
  type TaskView,
  type TaskViewKind,
  type NodeUsageSample,
  type CostSummary,
  type JobRow,
  type JobStatus,
  type JobsReply,
  type MetricPoint,
} from '../../orchestrator/protocol/state-rows.ts';
import type {
  JobRow,
  MetricPoint,
  NodeRow,
  NodeUsageSample,
  TaskView,
} from '../../orchestrator/protocol/state-rows.ts';

/** Where a placement rule sends or keeps work. */
export interface PlacementTarget {
  readonly backend?: string;
  readonly labels?: Record<string, string>;
}

/** Kinds a placement rule can match. */
export type RuleKind = 'function' | 'command' | 'circuit' | 'actor';

/** One ordered placement rule; the first that matches a task decides. */
export interface PlacementRule {
  readonly match: { readonly name?: string; readonly kind?: RuleKind };
  readonly require?: PlacementTarget;
  readonly prefer?: PlacementTarget;
  readonly avoid?: PlacementTarget;
}

/** A configured backend. */
export interface BackendView {
  readonly name: string;
  readonly kind: string;
  readonly config: Record<string, unknown>;
  readonly nodes: number;
  readonly state: string;
  readonly error?: string;
}

/** One field of a backend kind's config schema. */
export interface SchemaField {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  /** Entered values go to the keychain; the config holds only the secret's name. */
  readonly secret?: boolean;
  readonly description: string;
}

/** Config schemas per backend kind. */
export type BackendSchemas = Record<string, { readonly fields: readonly SchemaField[] }>;

/** A chunk of worker output (may hold several lines). */
export interface LogLine {
  readonly taskId?: string;
  readonly nodeId: string;
  readonly stream: string;
  readonly text: string;
  /** The attempt of the task that printed it (absent for node output). */
  readonly attempt?: number;
}

/** Cluster usage, once a second: resources in use and in total, and tasks waiting to run. */
export interface UsageSample {
  readonly t: number;
  readonly used: Record<string, number>;
  readonly total: Record<string, number>;
  readonly pending: number;
}

/** The first message on /api/events. */
export interface SnapshotEvent {
  readonly type: 'snapshot';
  /** On the wire each task's `jobId` is `j`, an index into `jobIds`; head-client.ts puts it back. */
  readonly tasks: TaskView[];
  readonly jobIds?: string[];
  readonly nodes: NodeRow[];
  readonly backends: BackendView[];
  readonly rules: PlacementRule[];
  /** Usage samples per node of the last hour. */
  readonly usageHistory?: NodeUsageSample[];
  /** Cluster-wide usage samples of the last hour sent while a dashboard was open. */
  readonly clusterUsage?: UsageSample[];
  /** Drivers' runs the head knows (running and recently ended). */
  readonly jobs?: JobRow[];
  /** The metric points the head holds of those runs. */
  readonly metrics?: MetricPoint[];
}

/** Every later message on /api/events: what changed since the last one. */
export interface BatchEvent {
  readonly type: 'batch';
  /** As in SnapshotEvent: `j` on the wire, `jobId` once received. */
  readonly tasks: TaskView[];
  readonly jobIds?: string[];
  readonly nodes?: NodeRow[];
  readonly logs?: LogLine[];
  readonly usage?: UsageSample;
  /** The backends, after one was added, replaced or removed. */
  readonly backends?: BackendView[];
  /** The placement rules, after they were replaced. */
  readonly rules?: PlacementRule[];
  /** Runs that started, changed or ended, in their latest state. */
  readonly jobs?: JobRow[];
  /** Metric points logged since the last batch. */
  readonly metrics?: MetricPoint[];
  /** Usage samples per node since the last batch (every 2 s). */
  readonly nodeUsage?: NodeUsageSample[];
}

/** A node's log line as the head (GET /api/node-logs/:id) or a session keeps it. */
export interface NodeLogLine {
  readonly t: number;
  readonly taskId?: string;
  readonly stream: string;
  readonly text: string;
}

/** GET /api/tasks/:id. */
export interface TaskDetail {
  readonly task: TaskView;
  readonly args: unknown;
  readonly result?: { readonly preview: string; readonly json?: unknown };
  readonly error?: { readonly name: string; readonly message: string };
  readonly placementRule?: { readonly index: number; readonly rule: PlacementRule };
  readonly logs: readonly string[];
  /** The logs with the attempt that printed each line (live tasks only). */
  readonly logEntries?: readonly LogEntry[];
  /** A circuit task's OpenQASM program and how it ran. */
  readonly circuit?: CircuitInput;
  /** Objects passed as arguments, with the task that made each (absent: none). */
  readonly argRefs?: readonly ArgumentRef[];
}

/** A kept log line of a task with the attempt that printed it (GET /api/logs/:id `entries`). */
export interface LogEntry {
  readonly attempt: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** A circuit task's call, as the task panel shows it. */
export interface CircuitInput {
  readonly source: string;
  readonly params?: Readonly<Record<string, number>>;
  readonly shots?: number;
  readonly device?: string;
  readonly seed?: number;
}

/** An object passed as an argument; `taskId` and `name` when a task made it (else a `put` value). */
export interface ArgumentRef {
  readonly id: string;
  readonly taskId?: string;
  readonly name?: string;
}

/** POST /api/placement-rules/preview. */
export interface RulePreview {
  readonly functions: readonly {
    name: string;
    kind: string;
    ruleIndex?: number | null;
    backend?: string | null;
    labels?: Record<string, string>;
    /** Backends with a live node that satisfies it now (empty: it would wait, then fail). */
    candidates?: readonly string[];
    /** The backend its own code names; null when none. */
    ownBackend?: string | null;
  }[];
  /** Per rule: backends with a live node that satisfies its `require` now. */
  readonly rules?: readonly { index: number; candidates: readonly string[] }[];
}

/** POST /api/backends/:name/test. */
export interface BackendTestResult {
  readonly ok: boolean;
  readonly lines: readonly string[];
  readonly error?: string;
}

/** A 400 reply: what is wrong, per field where known. */
export interface ApiErrorBody {
  readonly error: string;
  readonly fields?: Record<string, string>;
}
