/**
 * The rows of the State API (`state.list*`, `summarizeTasks`, `GET /api/tasks|actors|...`) and
 * the dashboard's view of a task, declared once for the head, the public API and the renderer.
 * This module imports nothing, so the dashboard's browser bundle includes it as it is.
 */

/** Task states, named as Ray's State API names them. */
export type TaskState =
  /** Waiting for argument objects. */
  | 'PENDING_ARGS_AVAIL'
  /** Ready, waiting for a node (or an actor) to run on. */
  | 'PENDING_NODE_ASSIGNMENT'
  /** Sent to a worker. */
  | 'RUNNING'
  /** Returned a value. */
  | 'FINISHED'
  /** Threw, was cancelled, could not be scheduled, or lost its worker with no retries left. */
  | 'FAILED';

/** Every task state, in lifecycle order (legends, filters, counts). */
export const TASK_STATES: readonly TaskState[] = [
  'PENDING_ARGS_AVAIL',
  'PENDING_NODE_ASSIGNMENT',
  'RUNNING',
  'FINISHED',
  'FAILED',
];

/** Actor states, as Ray's State API names them. */
export type ActorState =
  /** Waiting for constructor arguments. */
  | 'DEPENDENCIES_UNREADY'
  /** Waiting for a node, or its constructor is running. */
  | 'PENDING_CREATION'
  /** Its constructor returned; it takes calls. */
  | 'ALIVE'
  /** Its worker died; it is being created again. */
  | 'RESTARTING'
  /** It was killed, its constructor failed, or it ran out of restarts. */
  | 'DEAD';

/** Where an object is in its life. */
export type ObjectState =
  /** Its task has not finished (or is being re-run to rebuild a lost value). */
  | 'PENDING'
  /** Its value is stored (in memory, spilled, or on a node). */
  | 'READY'
  /** Its task failed; `get` raises the error. */
  | 'FAILED'
  /** Its only copy was on a node that died; waiting for it starts reconstruction. */
  | 'LOST';

/** Placement group states, as Ray's State API names them. */
export type PlacementGroupState =
  /** Not every bundle is reserved yet (or it can never be: see `infeasibleReason`). */
  | 'PENDING'
  /** Every bundle is reserved. */
  | 'CREATED'
  /** A node holding some bundles died; they are being reserved elsewhere. */
  | 'RESCHEDULING'
  /** Removed: reservations freed, work inside killed. */
  | 'REMOVED';

/** Node states. */
export type NodeState =
  /** Connected (or detached within its grace period) and taking work. */
  | 'ALIVE'
  /** Gone: its agent exited, its link did not come back, or its backend retired it. */
  | 'DEAD';

/** Amounts of resources by name (`CPU`, `GPU`, `memory`, custom ones), in user-facing units. */
export type ResourceAmounts = Record<string, number>;

/** What kind of work a task row is (Ray's task types). */
export type TaskType = 'NORMAL_TASK' | 'ACTOR_CREATION_TASK' | 'ACTOR_TASK';

/** One row of `state.listTasks()`. */
export interface TaskRow {
  readonly taskId: string;
  readonly name: string;
  readonly type: TaskType;
  readonly state: TaskState;
  readonly jobId: string;
  /** The node it runs or ran on ('' before it was placed). */
  readonly nodeId: string;
  /** The actor of an actor creation or call ('' for plain tasks). */
  readonly actorId: string;
  /** The task that submitted it ('' for a driver's tasks). */
  readonly parentTaskId: string;
  /** The failed task this one resubmits (`orrery retry`; '' for others). */
  readonly retryOf: string;
  /** 0 for the first run, one more for each retry. */
  readonly attempt: number;
  /** Index of the placement rule that placed it; null when none matched. */
  readonly placementRule: number | null;
  /** The error's class name when FAILED ('' otherwise). */
  readonly errorType: string;
  readonly submittedAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  /** Facts the task recorded about itself (`recordTaskInfo`), values under secret-looking names redacted. */
  readonly info: Readonly<Record<string, string | number | boolean>>;
}

/** One row of `state.listActors()`. */
export interface ActorRow {
  readonly actorId: string;
  readonly className: string;
  /** Its name ('' when unnamed). */
  readonly name: string;
  readonly namespace: string;
  readonly state: ActorState;
  /** The node hosting it ('' while it has none). */
  readonly nodeId: string;
  readonly jobId: string;
  readonly numRestarts: number;
  readonly detached: boolean;
  /** Why it died or last restarted ('' if never). */
  readonly deathCause: string;
}

/** One row of `state.listObjects()`. */
export interface ObjectRow {
  readonly objectId: string;
  readonly state: ObjectState;
  readonly type: 'PUT' | 'TASK_RESULT';
  readonly sizeBytes: number;
  /** Where its bytes are: the head's memory, a spill file, the node that made it, or nowhere yet. */
  readonly location: 'HEAD_MEMORY' | 'SPILLED' | 'NODE' | 'NONE';
  readonly nodeId: string;
  /** Every node holding the value, comma-separated: the one that made it, then copies other nodes fetched directly. */
  readonly locations: string;
  /** Bytes of the value moved agent to agent (direct transfers; each copy counts). */
  readonly directBytes: number;
  /** Milliseconds those direct transfers took, summed. */
  readonly directMs: number;
  /** Bytes of the value that went through the head (pulled from a node for a driver or another node). */
  readonly relayBytes: number;
  readonly spillPath: string;
  /** Holders plus pending tasks that take it plus values it is nested in. */
  readonly refCount: number;
  /** Processes holding a ref, comma-separated (`driver:<jobId>`, `<nodeId>/<workerId>`). */
  readonly holders: string;
  readonly submittedTaskCount: number;
  readonly nestedCount: number;
  readonly ownerJobId: string;
  readonly createdAt: number;
}

/** One row of `state.listNodes()` and `nodes()`. */
export interface NodeRow {
  readonly nodeId: string;
  readonly backend: string;
  readonly state: NodeState;
  readonly resources: ResourceAmounts;
  /** What the scheduler has left on it ({} once dead). */
  readonly available: ResourceAmounts;
  /** Values under secret-looking names redacted. */
  readonly labels: Readonly<Record<string, string>>;
  /** The agent's process id on its host. */
  readonly pid: number;
  /** Why it died ('' while alive). */
  readonly deathReason: string;
}

/** One bundle of a placement group row. */
export interface PlacementGroupBundleRow {
  readonly bundleIndex: number;
  readonly resources: ResourceAmounts;
  /** The node holding it ('' while unplaced). */
  readonly nodeId: string;
}

/** One row of `state.listPlacementGroups()` (Ray's placement group table). */
export interface PlacementGroupRow {
  readonly placementGroupId: string;
  readonly name: string;
  readonly state: PlacementGroupState;
  /** PACK, SPREAD, STRICT_PACK or STRICT_SPREAD. */
  readonly strategy: string;
  readonly creatorJobId: string;
  readonly isDetached: boolean;
  readonly bundles: readonly PlacementGroupBundleRow[];
  /** Which resource no node or backend offers, while it can never be placed ('' otherwise). */
  readonly infeasibleReason: string;
  readonly createdAt: number;
  /** 0 until removed. */
  readonly removedAt: number;
}

/** One name's row of `state.summarizeTasks()`: how many of its tasks are in each state. */
export interface TaskSummaryRow {
  readonly name: string;
  readonly type: TaskType;
  readonly stateCounts: Partial<Record<TaskState, number>>;
}

/** State API query kinds. */
export type StateQuery =
  | 'tasks'
  | 'actors'
  | 'objects'
  | 'nodes'
  | 'summary'
  | 'cluster-resources'
  | 'available-resources'
  | 'placement-groups'
  | 'cost';

/** A filter of the State API: `[key, '=' | '!=', value]`. */
export type StateFilter = readonly [string, '=' | '!=', string];

/** What each State API query answers. */
export interface StateReplies {
  readonly tasks: TaskRow[];
  readonly actors: ActorRow[];
  readonly objects: ObjectRow[];
  readonly nodes: NodeRow[];
  /** Per task name (a user's name: an own key, never the prototype). */
  readonly summary: Record<string, TaskSummaryRow>;
  /** Total resources of the live nodes. */
  readonly 'cluster-resources': ResourceAmounts;
  /** Resources free now on the live nodes. */
  readonly 'available-resources': ResourceAmounts;
  readonly 'placement-groups': PlacementGroupRow[];
  /** What paid jobs cost so far and the budgets they stay within (one row). */
  readonly cost: BudgetRow;
}

/** What the dashboard calls a task's kind: plain functions, command and circuit tasks, and actor work. */
export type TaskViewKind = 'function' | 'command' | 'circuit' | 'actor-create' | 'actor-call';

/** One task as the dashboard's live feed and session views send it (absent members vanish in JSON). */
export interface TaskView {
  readonly id: string;
  readonly name: string;
  readonly kind: TaskViewKind;
  readonly state: TaskState;
  readonly nodeId?: string;
  readonly backend?: string;
  readonly parentId?: string;
  /** The failed task this one resubmits (`orrery retry`). */
  readonly retryOf?: string;
  /** Ids of the objects passed as ref arguments: the edges of the task graph. */
  readonly deps: readonly string[];
  readonly actorId?: string;
  readonly ruleIndex?: number;
  readonly attempt: number;
  readonly submittedAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly errorName?: string;
  readonly info?: Readonly<Record<string, string | number | boolean>>;
  /** For a `TaskError`: the class name of what the task's own code threw (`BadParams`). */
  readonly errorCause?: string;
  /** The run (driver job) that submitted it; recorded in sessions from schema version 3. */
  readonly jobId?: string;
}

/** One recorded session as `GET /api/sessions` and `orrery sessions list` show it. */
export interface SessionRow {
  readonly name: string;
  readonly file: string;
  /** When recording began (ms since the epoch). */
  readonly createdAt: number;
  readonly endedAt: number | null;
  /** `running`, `finished`, `crashed`, or `unreadable` (then `error` says why). */
  readonly status: 'running' | 'finished' | 'crashed' | 'unreadable';
  /** Tasks per state. */
  readonly taskCounts: Readonly<Record<string, number>>;
  readonly totalTasks: number;
  /** Database, WAL, shared memory and results files together. */
  readonly sizeBytes: number;
  readonly error?: string;
  /** US dollars its tasks reported (`costUsd`); absent when none did. */
  readonly costUsd?: number;
  /** Display title a person gave it (PATCH /api/sessions/:name); null: shown by `name`, its file name. */
  readonly title: string | null;
  /** Free notes (several lines) and tags a person gave it. */
  readonly notes: string;
  readonly tags: readonly string[];
}

/** A node a session recorded (`GET /api/sessions/:name/nodes`): what it offered and when it joined and left. */
export interface SessionNodeRow {
  readonly nodeId: string;
  readonly backend: string | null;
  readonly resources: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly joinedAt: number | null;
  /** null: the session never saw it leave. */
  readonly leftAt: number | null;
}

/**
 * How a matched pair of tasks compares.
 * - `same`: same code, parameters, final state, and equal (or numerically close) results.
 * - `differs`: matched, but code, parameters, state or result differ.
 * - `only-a` / `only-b`: no counterpart in the other session.
 */
export type MatchStatus = 'same' | 'differs' | 'only-a' | 'only-b';

/**
 * How two results compare: `equal` (same bytes), `close` (numerically within tolerance),
 * `differ`, `missing-a`/`missing-b` (only one side stored one), `none` (neither did).
 */
export type ResultVerdict = 'equal' | 'close' | 'differ' | 'missing-a' | 'missing-b' | 'none';

/** Two measurement histograms (`{ bitstring: count }`, e.g. a circuit's `counts`) compared. */
export interface CountsDiff {
  /** Where the counts sit in the result (`counts`, or `(value)` for a bare histogram). */
  readonly path: string;
  readonly shotsA: number;
  readonly shotsB: number;
  /** Outcomes whose count differs, largest change first (at most 8): count in A, in B. */
  readonly changed: readonly { readonly key: string; readonly a: number; readonly b: number }[];
  /** How many outcomes differ in all, and how many were seen on one side only. */
  readonly changedKeys: number;
  readonly onlyInA: number;
  readonly onlyInB: number;
  /** Total variation distance of the two distributions (0 same, 1 disjoint). */
  readonly tvd: number;
  /** p-value of a chi-square test that both were sampled from one distribution; null when it cannot be computed. */
  readonly pValue: number | null;
  /** pValue ≥ 0.01: the difference is what sampling alone (other seeds, other shots) would give. */
  readonly withinSamplingNoise: boolean;
}

/** The size of a result difference, for a table (`TaskComparison.resultDiff`). */
export interface ResultDiff {
  /** First path where the results differ (`(value)` for the whole value), null when within tolerance. */
  readonly path: string | null;
  /** Largest |a − b| over the numbers compared (0 when no numbers differ). */
  readonly maxAbsDiff: number;
  /** Largest |a − b| / max(|a|, |b|) over the numbers compared. */
  readonly maxRelDiff: number;
  /** Top-level fields whose values differ, for object results (at most 12). */
  readonly fields: readonly string[];
  /** Present when both results hold measurement counts. */
  readonly counts?: CountsDiff;
}

/** One row of a session comparison. Fields of a side without a task are null. */
export interface TaskComparison {
  readonly name: string;
  /** Position of the task among tasks of this name (in A, or in B for `only-b`). */
  readonly ordinal: number;
  readonly status: MatchStatus;
  readonly taskIdA: string | null;
  readonly taskIdB: string | null;
  readonly stateA: string | null;
  readonly stateB: string | null;
  readonly paramsA: string | null;
  readonly paramsB: string | null;
  readonly params: 'same' | 'differ' | null;
  readonly code: 'same' | 'differ' | null;
  readonly result: ResultVerdict | null;
  /** Where results first differ and the largest numeric difference seen. */
  readonly resultDetail: string | null;
  /** Short previews (at most 160 characters) of each side's result, on rows that are not `same`. */
  readonly resultA: string | null;
  readonly resultB: string | null;
  /** The size of the result difference, when both results could be decoded and are not equal bytes. */
  readonly resultDiff: ResultDiff | null;
  readonly durationMsA: number | null;
  readonly durationMsB: number | null;
  /** durationMsB − durationMsA. */
  readonly deltaMs: number | null;
}

/** Totals of one side of a comparison. */
export interface SideTotals {
  readonly session: string;
  readonly tasks: number;
  /** Sum of task durations (start to end). */
  readonly totalDurationMs: number;
  /** First submission to last end. */
  readonly wallMs: number;
}

/** `GET /api/sessions/compare` and `orrery sessions compare`. */
export interface SessionComparison {
  readonly a: SideTotals;
  readonly b: SideTotals;
  readonly tasks: readonly TaskComparison[];
  readonly counts: {
    readonly matched: number;
    readonly same: number;
    readonly differs: number;
    readonly onlyInA: number;
    readonly onlyInB: number;
    readonly paramsDiffer: number;
    readonly codeDiffer: number;
    readonly resultsDiffer: number;
    /** Differing results that are measurement counts within sampling noise. */
    readonly withinSamplingNoise: number;
  };
  /** Totals over matched tasks only, so extra tasks on one side do not skew the speed-up. */
  readonly matchedTiming: {
    readonly durationMsA: number;
    readonly durationMsB: number;
    readonly deltaMs: number;
    /** durationMsB / durationMsA. */
    readonly ratio: number | null;
  };
}

/**
 * One node's usage at one time, as the head keeps it (head/usage-history.ts), serves it
 * (`GET /api/usage`, the events feed) and records it in the session. Members are absent when
 * the node does not have the thing (no agent sample yet, no GPUs, no QPU slots). Samples older
 * than the last hour are averages over a minute.
 */
export interface NodeUsageSample {
  readonly nodeId: string;
  /** ms since the epoch. */
  readonly t: number;
  /** Fraction of the machine's CPU time busy, 0-1. */
  readonly cpu?: number;
  readonly memUsedBytes?: number;
  readonly memTotalBytes?: number;
  /** GPUs on the node (`nvidia-smi` rows). */
  readonly gpus?: number;
  /** Mean GPU utilisation over its GPUs, percent 0-100. */
  readonly gpuUtil?: number;
  /** GPU memory used and in total, summed over its GPUs, MiB. */
  readonly gpuMemUsedMb?: number;
  readonly gpuMemTotalMb?: number;
  /** QPU slots in use and in total (quantum backends' nodes). */
  readonly qpuUsed?: number;
  readonly qpuTotal?: number;
  /** Its running circuit tasks that wait in the service's queue (`queuePosition` > 0), and the best position among them. */
  readonly queued?: number;
  readonly queuePosition?: number;
}

/** Cost reported by tasks (`costUsd` in their info), in US dollars: in all, and per backend. */
export interface CostSummary {
  readonly totalUsd: number;
  /** Tasks that reported a cost. */
  readonly tasks: number;
  /** One row per backend that has costs, most expensive first. */
  readonly byBackend: readonly { readonly backend: string; readonly usd: number; readonly tasks: number }[];
  /** A live head with budgets: its spend against them (the State API's `cost` query). */
  readonly budget?: BudgetRow;
}

/**
 * The head's spend against its budgets (the State API's `cost` query): charges tasks reported
 * (`costUsd`, plus what earlier heads of a resumed session spent) and estimates reserved by
 * paid jobs still in flight, in all and per backend, in US dollars.
 */
export interface BudgetRow {
  readonly spentUsd: number;
  /** Estimates of running jobs beyond what they were charged so far. */
  readonly reservedUsd: number;
  /** Tasks that reported a cost to this head. */
  readonly tasks: number;
  /** The session's budget (`init({ budget: { usd } })`); absent when none. */
  readonly budgetUsd?: number;
  /** One row per backend with spend or a budget, most spent first. */
  readonly byBackend: readonly {
    readonly backend: string;
    readonly spentUsd: number;
    readonly reservedUsd: number;
    readonly tasks: number;
    /** The backend's `budgetUsd`; absent when none. */
    readonly budgetUsd?: number;
  }[];
}

/** One session of an N-way comparison, as the comparison names it. */
export interface CompareSide {
  readonly session: string;
  /** The display title a person gave it, null when none. */
  readonly title: string | null;
  readonly tags: readonly string[];
  readonly status: string;
  readonly createdAt: number;
}

/**
 * What a comparison row is about: a key metric of the run, a config key (backends left out),
 * a backend's config key (`<backend>.<key>`), or a placement rule's field (`#1.require.backend`).
 */
export type CompareSection = 'metrics' | 'config' | 'backends' | 'rules';

/** One compared value across N sessions (`values[i]` is session i's; the first is the baseline). */
export interface CompareValueRow {
  readonly section: CompareSection;
  readonly key: string;
  /** The value as text (strings as they are, other values as JSON); null where the session has no such key. */
  readonly values: readonly (string | null)[];
  /** Where a value is a number: value − baseline's value (null where either is not a number); 0 for the baseline. */
  readonly deltas: readonly (number | null)[];
  /** True when any value differs from the baseline's. */
  readonly differs: boolean;
}

/** `GET /api/sessions/compare?s=A&s=B&s=C` and `orrery sessions compare A B C`: N sessions against the first. */
export interface MultiSessionComparison {
  readonly sessions: readonly CompareSide[];
  /** Key metrics, then config, backends and placement rules, each sorted by key. */
  readonly rows: readonly CompareValueRow[];
  /** Task by task: `pairs[i]` compares sessions[0] (A) with sessions[i + 1] (B). */
  readonly pairs: readonly SessionComparison[];
}

/** Where a driver's run (job) stands. */
export type JobStatus =
  /** The driver is connected (or its embedded head is up). */
  | 'running'
  /** The driver ended normally (`shutdown()`, or its process exited with code 0). */
  | 'succeeded'
  /** The driver's process exited with an error or a non-zero code. */
  | 'failed'
  /** The driver's connection closed without it saying how it ended. */
  | 'disconnected';

/** One driver's run (a job): `GET /api/jobs`, `GET /api/sessions/:name/jobs` and the live feed. */
export interface JobRow {
  readonly jobId: string;
  /** The driver's entry point (its script's path), when it said. */
  readonly script?: string;
  readonly pid?: number;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly status: JobStatus;
  readonly exitCode?: number;
  /** Why it failed (the driver's uncaught error, or the exit code). */
  readonly error?: string;
  /** The last lines the driver printed (stdout and stderr; stderr lines start with `[err] `), where the head could see them. */
  readonly output?: readonly string[];
}

/** One logged value (`log({ energy }, { step })`) of a job's metric `key` at `step`. */
export interface MetricPoint {
  readonly jobId: string;
  readonly key: string;
  readonly step: number;
  readonly value: number;
  /** When it was logged (ms since the epoch). */
  readonly ts: number;
}

/** A job list with the metric points of those jobs (`GET /api/jobs`, `GET /api/sessions/:name/jobs`). */
export interface JobsReply {
  readonly jobs: readonly JobRow[];
  readonly metrics: readonly MetricPoint[];
}
