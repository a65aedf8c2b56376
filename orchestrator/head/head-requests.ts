/**
 * The one dispatcher of the requests drivers and running tasks make of the head (the ops of
 * protocol/messages.ts HeadOps), whoever sends them: the embedded driver calls `post` and
 * `call`; drivers over WebSocket (service/ws-gateway.ts) and running tasks (node-messages.ts)
 * send `request` messages that `answer` serves and replies to.
 *
 * A request posted without waiting for its reply (requestId 0) that fails on the head fails
 * what it was to make, for every caller alike: a submitted task's result object and a put's
 * object (`get` raises the error), a placement group's ready object; a refused actor creation
 * (a duplicate name) makes every call on its handle fail with ActorDiedError saying why. The
 * failure is logged too; requests that make nothing (refs, task-info, pg-remove) are only logged.
 */
import { toErrorInfo, type ErrorInfo } from '../core/errors.ts';
import type { ShippedCode } from '../core/function-source.ts';
import { newId } from '../core/ids.ts';
import type { ActorManager } from '../control/actor-manager.ts';
import type { LeaseDispatcher } from '../control/lease-dispatcher.ts';
import type { PlacementGroupManager } from '../control/placement-group-manager.ts';
import type { SpendLedger } from '../control/spend-ledger.ts';
import type { TaskManager } from '../control/task-manager.ts';
import { retrySubmission } from '../control/task-retry.ts';
import type { ObjectPlane } from '../objects/object-plane.ts';
import type { ObjectStore } from '../objects/object-store.ts';
import type {
  ClientRequest,
  GetTimedOut,
  HeadOp,
  HeadOps,
  Message,
  ObjectResult,
  ReplyTo,
  RequestOf,
} from '../protocol/messages.ts';
import type { HeadEvents } from './head-events.ts';
import type { RecordedTask } from './head-options.ts';
import type { HeadQueries } from './head-queries.ts';
import type { Jobs } from './jobs.ts';
import { waitForObjects } from './wait-for-objects.ts';
import type { Payload } from '../core/serialization.ts';

/** A `get` result telling a worker to fetch the value from the node that holds it. */
const FETCH_IT: ObjectResult = { ok: true, payload: { data: new Uint8Array(0), marked: false }, fetch: true };

/** Who is asking: a driver (job) or a running task. */
export interface Caller {
  readonly jobId: string;
  readonly taskId?: string;
  /** The calling worker process (`<nodeId>/<workerId>`), for reference counting; drivers leave it out. */
  readonly holder?: string;
  /** The node the calling worker runs on. */
  readonly nodeId?: string;
  /** The caller maps the head's shared-memory files (a driver in the head's process, a worker of a node sharing memory). */
  readonly sharedMemory?: boolean;
}

/** A `request` message, and where its reply goes. */
export type RequestMessage = Extract<Message, { type: 'request' }>;

/** What the requests act on: the head's parts (assemble-head.ts). */
export interface RequestTargets {
  /** Code by hash, kept for the runs that need it (task-transport.ts). */
  readonly code: Map<string, ShippedCode>;
  readonly events: HeadEvents;
  readonly tasks: TaskManager;
  readonly actors: ActorManager;
  readonly placementGroups: PlacementGroupManager;
  readonly objects: ObjectPlane;
  readonly store: ObjectStore;
  readonly dispatcher: LeaseDispatcher;
  readonly queries: HeadQueries;
  /** Spend against budgets: paid jobs reserve their estimate, tasks' `costUsd` charges it. */
  readonly spend: SpendLedger;
  namespaceOf(jobId: string): string;
  /** Drivers' runs: what they say about themselves and the metrics they log. */
  readonly jobs: Pick<Jobs, 'update' | 'log'>;
  /** A task of the session this head resumes, as recorded (HeadOptions.adoption): for `retry` of a task it did not submit. */
  recordedTask?(taskId: string): RecordedTask | undefined;
  /** The result a finished task of that session recorded (HeadOptions.adoption): for a reconnected driver's `get`. */
  recordedResult?(taskId: string): Payload | undefined;
  /** True when node `nodeId` holds object `id` or can fetch it directly from the node that does (objects/transfer-routes.ts). */
  fetchesDirectly(nodeId: string, id: string): boolean;
  /** A client driver's backends join the head (those whose names are new); resolves with the names added. */
  addBackends(configs: readonly unknown[]): Promise<string[]>;
  log(line: string): void;
}

/** One handler per op, typed by HeadOps: the request it takes and the reply it gives. */
type Handlers = {
  readonly [K in HeadOp]: (req: RequestOf<K>, caller: Caller) => HeadOps[K]['reply'] | Promise<HeadOps[K]['reply']>;
};
type AnyHandler = (req: ClientRequest, caller: Caller) => unknown;

/** Serves requests for a head. */
export class HeadRequests {
  /** By op; a Map, so an op from the wire such as `__proto__` is unknown rather than a prototype's member. */
  private readonly handlers: ReadonlyMap<string, AnyHandler>;

  constructor(private readonly t: RequestTargets) {
    this.handlers = new Map(
      Object.entries(handlersOf(t, (caller, blocked) => this.block(caller, blocked))) as [string, AnyHandler][],
    );
  }

  /** Serves a request: the reply, synchronously where the op allows (submit, put). Throws or rejects with the head's error. */
  serve<R extends ClientRequest>(req: R, caller: Caller): ReplyTo<R> | Promise<ReplyTo<R>> {
    const handler = this.handlers.get(req.op);
    if (handler === undefined) throw new TypeError(`unknown request op ${JSON.stringify(req.op)}`);
    return handler(req, caller) as ReplyTo<R> | Promise<ReplyTo<R>>;
  }

  /** Serves a request nobody waits for; a failure fails what it was to make (see the module's comment). */
  post(req: ClientRequest, caller: Caller): void {
    try {
      const r = this.serve(req, caller);
      if (r instanceof Promise) r.catch((err: unknown) => this.failed(req, err, caller));
    } catch (err) {
      this.failed(req, err, caller);
    }
  }

  /** Serves a request and resolves with its reply (rejects with the head's error). */
  call<R extends ClientRequest>(req: R, caller: Caller): Promise<ReplyTo<R>> {
    try {
      return Promise.resolve(this.serve(req, caller));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Serves a `request` message and sends its reply to `replyTo` (none for requestId 0: that one is posted). */
  answer(m: RequestMessage, caller: Caller, replyTo: { send(m: Message): void }): void {
    if (m.requestId === 0) return this.post(m.req, caller);
    const { requestId, workerId } = m;
    const ok = (value: unknown) => replyTo.send({ type: 'reply', requestId, workerId, ok: true, value });
    const fail = (err: unknown) =>
      replyTo.send({ type: 'reply', requestId, workerId, ok: false, error: toErrorInfo(err) });
    try {
      const r = this.serve(m.req, caller);
      if (r instanceof Promise) r.then(ok, fail);
      else ok(r);
    } catch (err) {
      fail(err);
    }
  }

  private failed(req: ClientRequest, err: unknown, caller: Caller): void {
    const error = toErrorInfo(err);
    const outcome = this.failWhatItMade(req, error, caller);
    this.t.log(
      `orrery: request ${req.op} of job ${caller.jobId}${caller.taskId ? ` from task ${caller.taskId}` : ''} failed: ${error.message}${outcome ? `; ${outcome}` : ''}`,
    );
  }

  /** Fails what a posted request was to make; says how its caller will see it (undefined: it made nothing). */
  private failWhatItMade(req: ClientRequest, error: ErrorInfo, caller: Caller): string | undefined {
    switch (req.op) {
      case 'submit': {
        const spec = req.task;
        if (spec.kind === 'actor-create') {
          this.t.actors.creationFailed(spec, error);
          return `calls on the handle of actor ${spec.actor?.className ?? spec.name} raise ActorDiedError`;
        }
        const recorded = this.t.tasks.task(spec.taskId);
        if (recorded) this.t.tasks.fail(recorded, error);
        this.t.objects.failed(spec.taskId, error, caller);
        return `getting the result of ${spec.name} raises this error`;
      }
      case 'put':
        this.t.objects.failed(req.id, error, caller);
        return `getting object ${req.id} raises this error`;
      case 'pg-create':
        this.t.objects.failed(req.readyId, error, caller);
        return `the ready() of placement group ${req.placementGroupId} raises this error`;
      default:
        return undefined;
    }
  }

  /** A task waiting in get/wait gives its CPUs back meanwhile. */
  private block(caller: Caller, blocked: boolean): void {
    const task = caller.taskId ? this.t.tasks.task(caller.taskId) : undefined;
    if (task) this.t.dispatcher.setBlocked(task, blocked);
  }
}

function handlersOf(t: RequestTargets, block: (caller: Caller, blocked: boolean) => void): Handlers {
  /** `ids`, after bringing back the results an earlier head of a resumed session recorded for ids this head does not know. */
  const known = (ids: readonly string[], caller: Caller): readonly string[] => {
    if (t.recordedResult)
      for (const id of ids) {
        if (t.store.has(id)) continue;
        const payload = t.recordedResult(id);
        if (payload) t.objects.restored(id, payload, caller);
      }
    return ids;
  };
  /** `get`'s results; a worker gets a value only nodes hold from its own agent, which fetches it directly where it can. */
  const results = async (req: RequestOf<'get'>, caller: Caller): Promise<ObjectResult[]> => {
    const node = req.relay ? undefined : caller.nodeId;
    const direct = new Set(node ? req.ids.filter((id) => t.fetchesDirectly(node, id)) : []);
    if (direct.size === 0) return t.objects.results(req.ids, caller);
    const rest = req.ids.filter((id) => !direct.has(id));
    const got = new Map((await t.objects.results(rest, caller)).map((r, i) => [rest[i]!, r]));
    return req.ids.map((id) => got.get(id) ?? FETCH_IT);
  };
  return {
    submit(req, caller) {
      // A reconnected driver's replay of a task this head, or the session it resumes, already has (see api/submission-replay.ts).
      const id = req.task.taskId;
      if (req.replay && (t.tasks.task(id) || t.store.has(id) || t.recordedTask?.(id))) return;
      const code = req.task.code;
      if (code) {
        t.code.set(code.hash, code);
        t.events.code(code);
      }
      t.tasks.submit(t.placementGroups.admit(req.task, caller.taskId), caller.jobId, caller.taskId);
      t.objects.submitted(req.task.taskId, req.task.kind, caller);
    },
    put: (req, caller) => t.objects.put(req, caller),
    refs: (req, caller) => t.objects.refs(req, caller),
    // The driver gateway takes it (a property of the connection); from anyone else it means nothing.
    'map-shared': () => undefined,
    get: (req, caller) =>
      waitForObjects(
        t.store,
        (blocked) => block(caller, blocked),
        known(req.ids, caller),
        req.ids.length,
        req.timeoutMs,
      ).then<ObjectResult[] | GetTimedOut>((ready) =>
        ready.length < req.ids.length ? { timedOut: req.ids.length - ready.length } : results(req, caller),
      ),
    wait: (req, caller) =>
      waitForObjects(
        t.store,
        (blocked) => block(caller, blocked),
        known(req.ids, caller),
        req.numReturns,
        req.timeoutMs,
      ),
    cancel: (req) => t.tasks.cancel(req.id, req.force, req.recursive, req.graceMs),
    retry(req, caller) {
      const own = t.tasks.task(req.taskId);
      // A task of an earlier head of a resumed session is rebuilt from what the session recorded.
      const recorded = own === undefined || own.adopted ? t.recordedTask?.(req.taskId) : undefined;
      const code = recorded?.spec.code;
      if (code && !t.code.has(code.hash)) {
        t.code.set(code.hash, code);
        t.events.code(code);
      }
      const spec = retrySubmission(
        req.taskId,
        recorded ?? own,
        newId(),
        {
          hasObject: (id) => t.store.has(id),
          hasCode: (hash) => t.code.has(hash),
        },
        req.rerun === true,
      );
      t.tasks.submit(t.placementGroups.admit(spec, caller.taskId), caller.jobId, caller.taskId, req.taskId);
      t.objects.submitted(spec.taskId, spec.kind, caller);
      return { taskId: spec.taskId };
    },
    'get-actor': (req, caller) => t.actors.lookup(req.name, req.namespace ?? t.namespaceOf(caller.jobId)),
    'kill-actor': (req) => t.actors.kill(req.actorId, req.noRestart),
    state: (req) => t.queries.state(req.query, req.filters, req.limit),
    'add-backends': (req) => t.addBackends(req.configs),
    'task-info'(req, caller) {
      const usd = req.info.costUsd;
      if (typeof usd === 'number' && caller.nodeId)
        t.spend.charge(req.taskId, t.queries.backendOfNode(caller.nodeId), usd);
      t.tasks.recordInfo(req.taskId, req.info);
    },
    'budget-reserve'(req, caller) {
      if (!caller.taskId || !caller.nodeId)
        throw new TypeError('budget-reserve: only a running task may reserve budget for the job it submits');
      t.spend.reserve(caller.taskId, t.queries.backendOfNode(caller.nodeId), req.estimateUsd, req.what);
      return t.spend.summary();
    },
    'pg-create': (req, caller) => t.placementGroups.serve(req, caller.jobId),
    'pg-remove': (req, caller) => t.placementGroups.serve(req, caller.jobId),
    'log-metrics': (req, caller) => t.jobs.log(caller.jobId, req.points),
    'job-update': (req, caller) => t.jobs.update(caller.jobId, req),
  };
}
