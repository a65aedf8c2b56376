/**
 * Every message that crosses a process boundary: head <-> agent <-> worker, and the client
 * requests a driver or a running task makes of the head. One module, one union.
 */
// biome-ignore-all lint/suspicious/noConfusingVoidType: `reply: void` in HeadOps is the return type of that op's handler (head-requests.ts), where void is what a handler with no answer returns
import type { ErrorInfo } from '../core/errors.ts';
import type { NormalizedActorOptions, NormalizedTaskOptions } from '../core/options.ts';
import type { ActorDescriptor, Payload } from '../core/serialization.ts';
import type { ShippedCode } from '../core/function-source.ts';
import type { PythonEnvSpec } from '../core/python-env.ts';
import type { PlacementStrategyName } from '../core/scheduling-strategy.ts';
import type { ObjectTransferMode } from './agent-spec.ts';
import type { BudgetRow, StateFilter, StateQuery, StateReplies } from './state-rows.ts';

export type { NormalizedActorOptions, NormalizedTaskOptions } from '../core/options.ts';

/**
 * Values larger than this stay on the node that made them (task results and worker puts) and
 * are pulled on demand; smaller ones travel inline with their messages.
 */
export const INLINE_VALUE_MAX = 100 * 1024;

/** What a submitted unit of work is. */
export type TaskKind =
  /** A remote function call. */
  | 'task'
  /** An actor's constructor: creates the actor on a dedicated worker. */
  | 'actor-create'
  /** A method call on a live actor. */
  | 'actor-call';

/** An argument as submitted: an inline value, or a ref resolved before the task runs. */
export type ArgSpec = Payload | { readonly ref: string };

/** A unit of work as a caller submits it. */
export interface TaskSubmission {
  readonly taskId: string;
  readonly name: string;
  readonly kind: TaskKind;
  /** For placement rules and the UI: a command or circuit task (plain functions leave it out). */
  readonly variant?: 'command' | 'circuit';
  /** Hash of the function or class source (tasks and actor creation). */
  readonly codeHash?: string;
  /** The code itself, sent the first time a caller uses it. */
  readonly code?: ShippedCode;
  readonly actorId?: string;
  readonly method?: string;
  readonly args: readonly ArgSpec[];
  /** Ids of refs nested inside argument values (kept alive while the task is pending). */
  readonly nestedRefs?: readonly string[];
  /** Names of the keychain secrets `secret()` references in the arguments stand for (tasks only); the head reads them at dispatch. */
  readonly secrets?: readonly string[];
  readonly options: NormalizedTaskOptions;
  readonly actorOptions?: NormalizedActorOptions;
  /** The descriptor a handle of this actor carries (actor creation only). */
  readonly actor?: ActorDescriptor;
  /** `runtimeEnv.workingDir` packed on the driver (api/working-dir.ts); its archive's object is in nestedRefs too. */
  readonly workdir?: ShippedDir;
}

/**
 * A local working directory packed for shipping: nodes keep it unpacked under
 * `~/.orrery/workdirs/<hash>/` and fetch the archive object only when they lack that folder.
 */
export interface ShippedDir {
  /** 32 hex digits of the content hash (core/working-dir-archive.ts). */
  readonly hash: string;
  /** The object holding the archive (a Uint8Array put by the driver). */
  readonly objectId: string;
  /** Size of the archive. */
  readonly archiveBytes: number;
}

/** The outcome of one object for `get`. */
export type ObjectResult =
  | {
      readonly ok: true;
      readonly payload: Payload;
      /**
       * Only to a worker: the value is on its own node or on one its agent can fetch it from
       * directly (agent/object-transfers.ts); `payload` is empty.
       */
      readonly fetch?: true;
    }
  | { readonly ok: false; readonly error: ErrorInfo };

/** `get`'s reply when the timeout passed first: how many objects were not ready. */
export interface GetTimedOut {
  readonly timedOut: number;
}

/**
 * Every request a driver or a running task makes of the head, by op: what the caller sends
 * (`req`) and what the head answers (`reply`). Requests whose reply is `void` may be posted
 * without waiting (`requestId` 0); a posted request that fails on the head fails what it was
 * to make (head/head-requests.ts), the same for every caller.
 */
export interface HeadOps {
  /**
   * `replay`: a client driver sends again, to the head it reached after losing one, a task it
   * submitted shortly before; the head takes it only if neither it nor the session it resumes
   * knows the task (api/submission-replay.ts).
   */
  readonly submit: {
    req: { readonly op: 'submit'; readonly task: TaskSubmission; readonly replay?: boolean };
    reply: void;
  };
  /** `stored`: the value's bytes stayed on the caller's node (sent there as `store-object`); `payload` carries only its kind. */
  readonly put: {
    req: {
      readonly op: 'put';
      readonly id: string;
      readonly payload: Payload;
      readonly nestedRefs?: readonly string[];
      readonly stored?: boolean;
      readonly sizeBytes?: number;
    };
    reply: void;
  };
  /**
   * A client driver that sees the head's shared-memory folder (its welcome's `shmDir`) says so
   * first: from then on its large puts are files it wrote there, and `get` replies name files
   * there instead of carrying bytes (service/ws-gateway.ts; other callers never send it).
   */
  readonly 'map-shared': {
    req: { readonly op: 'map-shared'; readonly dir: string };
    reply: void;
  };
  /** Reference counting: the caller's process now holds refs to `hold` and dropped its last refs to `release`. */
  readonly refs: {
    req: { readonly op: 'refs'; readonly hold: readonly string[]; readonly release: readonly string[] };
    reply: void;
  };
  /**
   * The outcome of every object, in order, once all are done (or how many were not, at the
   * timeout). `relay`: every value through the head (a worker whose direct fetch failed).
   */
  readonly get: {
    req: { readonly op: 'get'; readonly ids: readonly string[]; readonly timeoutMs?: number; readonly relay?: boolean };
    reply: ObjectResult[] | GetTimedOut;
  };
  /** The ids that are done (in input order) once `numReturns` are, or at the timeout. */
  readonly wait: {
    req: {
      readonly op: 'wait';
      readonly ids: readonly string[];
      readonly numReturns: number;
      readonly timeoutMs?: number;
    };
    reply: string[];
  };
  /** `graceMs`: how long a plainly cancelled running task may ignore its signal before its worker is killed (head default when absent). */
  readonly cancel: {
    req: {
      readonly op: 'cancel';
      readonly id: string;
      readonly force: boolean;
      readonly recursive: boolean;
      readonly graceMs?: number;
    };
    reply: void;
  };
  /**
   * Submits a failed or cancelled task again as a new task (`orrery retry`), from the spec the
   * head recorded; the caller holds the new result. Refused with TaskRetryRefusedError.
   * `rerun`: a task that finished may be submitted again too (the dashboard's Re-run).
   */
  readonly retry: {
    req: { readonly op: 'retry'; readonly taskId: string; readonly rerun?: boolean };
    reply: { readonly taskId: string };
  };
  /** The descriptor of a live named actor (in the caller's namespace unless one is given). */
  readonly 'get-actor': {
    req: { readonly op: 'get-actor'; readonly name: string; readonly namespace?: string };
    reply: ActorDescriptor;
  };
  readonly 'kill-actor': {
    req: { readonly op: 'kill-actor'; readonly actorId: string; readonly noRestart: boolean };
    reply: void;
  };
  /** A State API query; its reply is that query's rows ({@link ReplyTo}). */
  readonly state: {
    req: {
      readonly op: 'state';
      readonly query: StateQuery;
      readonly filters?: readonly StateFilter[];
      readonly limit?: number;
    };
    reply: StateReplies[StateQuery];
  };
  /** A driver's backends (init({ backends }) in client mode): those the head has no backend of that name for join it; the reply names them. */
  readonly 'add-backends': {
    req: { readonly op: 'add-backends'; readonly configs: readonly unknown[] };
    reply: string[];
  };
  /** Facts a running task records about itself (remote job id, queue position, cost), merged into its record. */
  readonly 'task-info': {
    req: {
      readonly op: 'task-info';
      readonly taskId: string;
      readonly info: Readonly<Record<string, string | number | boolean>>;
    };
    reply: void;
  };
  /**
   * A running task about to submit a paid job reserves its estimated cost against the session's
   * and its backend's budgets (control/spend-ledger.ts); refused with BudgetExceededError.
   */
  readonly 'budget-reserve': {
    req: { readonly op: 'budget-reserve'; readonly estimateUsd: number; readonly what: string };
    reply: BudgetRow;
  };
  /** Metric values a driver or a task logs (`log()`); each point's `step` was chosen by the caller. */
  readonly 'log-metrics': {
    req: { readonly op: 'log-metrics'; readonly points: readonly LoggedMetric[] };
    reply: void;
  };
  /** What a driver tells the head about its run: its script, its printed output, how it ended. */
  readonly 'job-update': { req: { readonly op: 'job-update' } & JobUpdate; reply: void };
  /** Creates a placement group (ids chosen by the caller, so `placementGroup()` returns at once); `readyId` resolves when it is reserved. */
  readonly 'pg-create': {
    req: {
      readonly op: 'pg-create';
      readonly placementGroupId: string;
      readonly readyId: string;
      readonly bundles: readonly Readonly<Record<string, number>>[];
      readonly strategy: PlacementStrategyName;
      readonly name?: string;
      readonly detached: boolean;
      /** Only nodes of this backend hold bundles. */
      readonly backend?: string;
    };
    reply: void;
  };
  /** Removes a placement group; work inside it is killed. Removing twice does nothing. */
  readonly 'pg-remove': { req: { readonly op: 'pg-remove'; readonly placementGroupId: string }; reply: void };
}

/** The name of a request. */
export type HeadOp = keyof HeadOps;

/** One value of a `log-metrics` request (names are data: an array, never object keys). */
export interface LoggedMetric {
  readonly key: string;
  readonly value: number;
  readonly step: number;
  readonly ts: number;
}

/** The members of a `job-update` request; each one present replaces what the head had. */
export interface JobUpdate {
  readonly script?: string;
  readonly pid?: number;
  /** Printed output since the last update (appended). */
  readonly output?: readonly { readonly stream: 'stdout' | 'stderr'; readonly text: string }[];
  /** How the run ended, when the driver knows (`shutdown()`, its process's exit). */
  readonly status?: 'succeeded' | 'failed';
  readonly exitCode?: number;
  readonly error?: string;
}

/** A request of op `K`. */
export type RequestOf<K extends HeadOp> = HeadOps[K]['req'];

/** Any request a driver or a running task makes of the head. */
export type ClientRequest = RequestOf<HeadOp>;

/** The reply to request `R`: its op's reply, and for a State API query the rows of that query. */
export type ReplyTo<R extends ClientRequest> = R extends {
  readonly op: 'state';
  readonly query: infer Q extends StateQuery;
}
  ? StateReplies[Q]
  : HeadOps[R['op']]['reply'];

/** Head -> agent -> worker: run a task, create an actor, or call one of its methods. */
export interface RunMessage {
  readonly type: 'run';
  readonly taskId: string;
  readonly attempt: number;
  /** Tasks of one lease run on one worker, in order. */
  readonly leaseId: string;
  readonly name: string;
  readonly kind: TaskKind;
  readonly codeHash?: string;
  readonly code?: ShippedCode;
  readonly actorId?: string;
  readonly method?: string;
  readonly args: readonly Payload[];
  readonly jobId: string;
  /** Resources assigned (user-facing amounts), for getRuntimeContext. */
  readonly assigned: Readonly<Record<string, number>>;
  readonly env?: Readonly<Record<string, string>>;
  /** A folder on the node to run in (an absolute `runtimeEnv.workingDir` not on the driver's machine). */
  readonly workingDir?: string;
  /** A shipped working directory to run in (unpacked by agent/working-dir-cache.ts). */
  readonly workdir?: ShippedDir;
  /** The Python environment the agent builds or finds before the task runs (core/python-env.ts). */
  readonly pythonEnv?: PythonEnvSpec;
  readonly maxConcurrency?: number;
  readonly timeoutMs?: number;
  /** Filled in by the agent: GPU device ids the task may use. */
  readonly gpuIds?: readonly number[];
  readonly nodeId?: string;
  readonly backend?: string;
  /** Arguments whose values stayed on a node: `args[index]` is empty and the worker fetches `objectId`. */
  readonly remoteArgs?: readonly (readonly [index: number, objectId: string])[];
  /**
   * Values of the task's secrets by name (TaskSubmission.secrets), read from the head's keychain
   * at dispatch. The worker puts them where the `secret()` references were and masks them in the
   * task's output. Never recorded, logged or listed.
   */
  readonly secrets?: Readonly<Record<string, string>>;
}

/** Where an agent accepts direct object transfers (TCP). */
export interface TransferAddress {
  readonly host: string;
  readonly port: number;
}

/** A node that holds an object, and where to fetch it from. */
export interface TransferSource extends TransferAddress {
  readonly nodeId: string;
}

/** One GPU's load as `nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total` reports it. */
export interface GpuUsage {
  /** Percent busy, 0-100. */
  readonly util: number;
  readonly memUsedMb: number;
  readonly memTotalMb: number;
}

/** agent -> head: a sample of the node machine's CPU, memory and GPUs. */
export interface NodeUsageMessage {
  readonly type: 'usage';
  /** When it was sampled (ms since the epoch, the agent's clock). */
  readonly t: number;
  /** Fraction of the machine's CPU time busy since the last sample, 0-1. */
  readonly cpu: number;
  readonly memUsedBytes: number;
  readonly memTotalBytes: number;
  /** One entry per GPU `nvidia-smi` lists; absent on a node without GPUs. */
  readonly gpus?: readonly GpuUsage[];
}

/** Every message of the protocol. */
export type Message =
  /** agent -> head: the node's resources and labels, first message on the stream. */
  | {
      readonly type: 'hello';
      readonly nodeId: string;
      readonly resources: Readonly<Record<string, number>>;
      readonly labels: Readonly<Record<string, string>>;
      readonly pid: number;
      readonly version: string;
      /**
       * Sent by an agent that outlived a head: tasks it ran for it whose results the head may not
       * have (they follow), and the actors it still hosts for it (a head that does not adopt one
       * sends `kill-actor`).
       */
      readonly resumed?: { readonly running: readonly string[]; readonly actors?: readonly string[] };
      /** The agent's shared-memory folder (core/shared-memory.ts); the head shares memory with it when it can see that folder. */
      readonly shmDir?: string;
    }
  /** head -> agent: first message on every connection; an agent that outlived a head orphans the old head's leases when the id changes. */
  | { readonly type: 'head-hello'; readonly headId: string }
  | RunMessage
  /** head -> agent -> worker: interrupt a task (force: kill its worker). */
  | {
      readonly type: 'cancel';
      readonly taskId: string;
      readonly force: boolean;
      readonly leaseId?: string;
      readonly actorId?: string;
    }
  /** head -> agent: the lease's worker is free again. */
  | { readonly type: 'lease-end'; readonly leaseId: string }
  /** head -> agent: kill the worker hosting this actor. */
  | { readonly type: 'kill-actor'; readonly actorId: string }
  /** head -> agent: exit (killing workers). */
  | { readonly type: 'shutdown' }
  /** worker -> agent -> head: a task finished. */
  | {
      readonly type: 'done';
      readonly taskId: string;
      readonly attempt: number;
      readonly result: Payload;
      readonly execMs: number;
      readonly workerId?: string;
      /** The value stayed on the worker's node (sent to its agent as `store-object`); `result` carries only its kind. */
      readonly stored?: boolean;
      readonly sizeBytes?: number;
      /** Ids of refs inside the value. */
      readonly nestedRefs?: readonly string[];
    }
  /** worker -> agent -> head: a task threw (or an actor constructor did). */
  | {
      readonly type: 'failed';
      readonly taskId: string;
      readonly attempt: number;
      readonly error: ErrorInfo;
      readonly cancelled?: boolean;
      readonly execMs?: number;
      readonly workerId?: string;
    }
  /** agent -> head: a worker died; the tasks of its lease (or its actor) went with it. */
  | {
      readonly type: 'worker-died';
      readonly workerId: string;
      readonly leaseId?: string;
      readonly actorId?: string;
      readonly reason: string;
      /** Set when the agent's memory guard killed the worker for using more than its limit. */
      readonly memory?: { readonly usedBytes: number; readonly limitBytes: number };
    }
  /** worker -> agent: keep this value on the node (a large task result or put). */
  | { readonly type: 'store-object'; readonly objectId: string; readonly payload: Payload }
  /** head -> agent (pull) or worker -> agent (fetch): send this object's value back as `object`. */
  | { readonly type: 'pull' | 'fetch'; readonly objectId: string }
  /** agent -> head or agent -> worker: an object's value (absent: this node does not have it). */
  | { readonly type: 'object'; readonly objectId: string; readonly payload?: Payload }
  /** agent -> head, once its object transfer server listens: where other agents fetch its objects (agent/object-transfer-server.ts). */
  | {
      readonly type: 'transfer-ready';
      readonly address: TransferAddress;
      /** The agent's machine (a loopback address is only offered to agents on the same one). */
      readonly hostname: string;
      readonly mode: ObjectTransferMode;
    }
  /** head -> agent, over the authenticated agent link: the head's transfer token, shown by agents to each other. */
  | { readonly type: 'transfer-key'; readonly token: string }
  /** agent -> head: a worker of this node needs an object the node lacks; where can the node fetch it? */
  | { readonly type: 'locate'; readonly objectId: string }
  /** head -> agent: nodes to fetch `objectId` from directly, best first (none: get it through the head). */
  | { readonly type: 'located'; readonly objectId: string; readonly sources: readonly TransferSource[] }
  /** agent -> head: the node now holds a copy, fetched directly from `fromNodeId`. */
  | {
      readonly type: 'object-copied';
      readonly objectId: string;
      readonly fromNodeId: string;
      readonly bytes: number;
      readonly ms: number;
      readonly resumes: number;
    }
  /** agent -> head: a direct fetch failed (`unreachable`: the source could not be reached at all). */
  | {
      readonly type: 'transfer-failed';
      readonly objectId: string;
      readonly fromNodeId: string;
      readonly unreachable: boolean;
      readonly reason: string;
    }
  /** head -> agent: these objects were freed; drop their values. */
  | { readonly type: 'free-objects'; readonly ids: readonly string[] }
  /** agent -> head: output of a worker, attributed to its lease or actor. */
  | {
      readonly type: 'log';
      readonly workerId?: string;
      readonly leaseId?: string;
      readonly actorId?: string;
      readonly stream: 'stdout' | 'stderr';
      readonly text: string;
      /** Set by the worker for output a task wrote (so it is attributed exactly, however late it arrives). */
      readonly taskId?: string;
      /** The attempt of that task which wrote it (output of a failed attempt can arrive after its retry began). */
      readonly attempt?: number;
    }
  /** agent -> head, every few seconds: what the node's machine uses (agent/usage-sampler.ts). */
  | NodeUsageMessage
  /** worker -> head over a direct link (local nodes): who is on the other end, and the head's link secret (ORRERY_WORKER_LINK_SECRET) proving it is one of its workers. */
  | { readonly type: 'worker-hello'; readonly nodeId: string; readonly workerId: string; readonly secret: string }
  /**
   * worker -> agent, when the worker's direct link to the head closed: the tasks the head gave it
   * over that link and it has not finished (each with its lease id, or `actor:<id>`), and the
   * results it sent over the link in the last seconds (they may have died with the head). A
   * durable agent reports the tasks to the next head as running, so that head adopts them
   * instead of running them again, and keeps the results for it.
   */
  | {
      readonly type: 'tasks-in-hand';
      readonly workerId: string;
      readonly tasks: readonly { readonly taskId: string; readonly holder: string }[];
      readonly results: readonly Extract<Message, { type: 'done' | 'failed' }>[];
    }
  /** worker -> agent -> head: a client request from a running task; `requestId` 0 wants no reply. */
  | {
      readonly type: 'request';
      readonly requestId: number;
      readonly callerTaskId: string;
      readonly workerId?: string;
      readonly req: ClientRequest;
    }
  /** head -> agent -> worker: the reply to a request. */
  | {
      readonly type: 'reply';
      readonly requestId: number;
      readonly workerId?: string;
      readonly ok: boolean;
      readonly value?: unknown;
      readonly error?: ErrorInfo;
    };

const TYPES = new Set<string>([
  'hello',
  'head-hello',
  'worker-hello',
  'tasks-in-hand',
  'run',
  'cancel',
  'lease-end',
  'kill-actor',
  'shutdown',
  'done',
  'failed',
  'worker-died',
  'log',
  'request',
  'reply',
  'store-object',
  'pull',
  'fetch',
  'object',
  'free-objects',
  'usage',
  'transfer-ready',
  'transfer-key',
  'locate',
  'located',
  'object-copied',
  'transfer-failed',
]);

/** Shallow check of an incoming message (deep fields are checked where they are used). */
export function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && TYPES.has((m as { type?: unknown }).type as string);
}
