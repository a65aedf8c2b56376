/**
 * The dashboard's own view of the head's HTTP and WebSocket API (orchestrator/service's
 * dashboard routes). Kept here, not imported, so the renderer depends on the wire contract
 * only and never on orchestrator code.
 */

/** Lifecycle state of a task, as the head reports it. */
export type TaskState =
  /** Waiting for its arguments (other tasks' results). */
  | 'PENDING_ARGS_AVAIL'
  /** Arguments ready; waiting for a node with room. */
  | 'PENDING_NODE_ASSIGNMENT'
  | 'RUNNING'
  | 'FINISHED'
  | 'FAILED';

/** Every task state, in lifecycle order (legends, filters, counts). */
export const TASK_STATES: readonly TaskState[] = ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'RUNNING', 'FINISHED', 'FAILED'];

/** What kind of work a task is. */
export type TaskKind = 'function' | 'command' | 'circuit' | 'actor-create' | 'actor-call';

/** One task as the event stream reports it. */
export interface TaskView {
  readonly id: string;
  readonly name: string;
  readonly kind: TaskKind;
  readonly state: TaskState;
  readonly nodeId?: string;
  readonly backend?: string;
  readonly parentId?: string;
  /** Tasks whose results this one takes as arguments: the graph's edges. */
  readonly deps: readonly string[];
  readonly actorId?: string;
  readonly ruleIndex?: number;
  readonly attempt: number;
  readonly submittedAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly errorName?: string;
  readonly info?: Record<string, unknown>;
}

/** One node of the cluster. */
export interface NodeRow {
  readonly nodeId: string;
  readonly backend: string;
  readonly state: 'ALIVE' | 'DEAD';
  readonly resources: Record<string, number>;
  readonly available: Record<string, number>;
  readonly labels: Record<string, string>;
  readonly deathReason?: string | null;
}

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
  readonly tasks: TaskView[];
  readonly nodes: NodeRow[];
  readonly backends: BackendView[];
  readonly rules: PlacementRule[];
}

/** Every later message on /api/events: what changed since the last one. */
export interface BatchEvent {
  readonly type: 'batch';
  readonly tasks: TaskView[];
  readonly nodes?: NodeRow[];
  readonly logs?: LogLine[];
  readonly usage?: UsageSample;
  /** The backends, after one was added, replaced or removed. */
  readonly backends?: BackendView[];
  /** The placement rules, after they were replaced. */
  readonly rules?: PlacementRule[];
}

/** GET /api/tasks/:id. */
export interface TaskDetail {
  readonly task: TaskView;
  readonly args: unknown;
  readonly result?: { readonly preview: string; readonly json?: unknown };
  readonly error?: { readonly name: string; readonly message: string };
  readonly placementRule?: { readonly index: number; readonly rule: PlacementRule };
  readonly logs: readonly string[];
}

/** POST /api/placement-rules/preview. */
export interface RulePreview {
  readonly functions: readonly { name: string; kind: string; ruleIndex?: number | null; backend?: string | null; labels?: Record<string, string> }[];
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
