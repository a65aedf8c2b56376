/**
 * The task table: dependencies, dispatch, outcomes, retries (Ray's defaults), cancellation
 * and error propagation. Actor calls are recorded here too and ordered by the ActorManager.
 */
import {
  cancelledInfo,
  isOrreryError,
  TaskError,
  TaskUnschedulableError,
  WorkerCrashedError,
  ObjectLostError,
  toErrorInfo,
  type ErrorInfo,
} from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import { MAX_VALUE_BYTES, serializeValue, type Payload } from '../core/serialization.ts';
import type { NormalizedTaskOptions, RunMessage, TaskSubmission } from '../protocol/messages.ts';
import type { ObjectStore, StoredFrom } from '../objects/object-store.ts';
import { argumentIds } from '../objects/lineage.ts';
import { Fifo } from '../core/fifo.ts';
import { applyPlacementRules, type PlacementRule } from '../scheduler/placement-rules.ts';
import type { LeaseDispatcher, Lease, SchedulingClass } from './lease-dispatcher.ts';
import { TaskSecrets, type SecretSource } from './task-secrets.ts';
import { adoptedRecord, type ReadonlyTask, type TaskRecord } from './task-record.ts';

/** What the task manager needs from the head. */
export interface TaskManagerIO {
  /** Sends a run to the lease's worker (the head adds the code it lacks). */
  run(lease: Lease, m: RunMessage): void;
  /** Interrupts a running task (force: kills its worker). */
  cancelRunning(t: TaskRecord, force: boolean): void;
  backendOf(nodeId: string): string;
  /** Data locality: the node a ready task should prefer (where its large arguments live), if any. */
  locality(t: TaskRecord): string | undefined;
  /** Where the secrets tasks refer to with `secret(name)` are read (the OS keychain). */
  readonly secrets: SecretSource;
}

/** Hooks into the actor manager, which owns actor-create and actor-call ordering. */
export interface ActorHooks {
  /** The id an actor really has (a getIfExists handle carries an alias). */
  realId(actorId: string | undefined): string | undefined;
  /** Throws when an actor creation cannot be recorded (its name is taken). */
  checkCreation(spec: TaskSubmission, jobId: string): void;
  /** A constructor argument failed: the actor is dead without running. */
  argsFailed(t: TaskRecord, error: ErrorInfo): void;
  submitted(t: TaskRecord): void;
  depsReady(t: TaskRecord): void;
  ended(t: TaskRecord): void;
  /** Actor creation finished; ok=false when the constructor threw. */
  created(t: TaskRecord, error: ErrorInfo | undefined): void;
  /** Every actor task that is not dispatched can be failed/cancelled by the actor manager. */
  cancelQueued(t: TaskRecord): boolean;
}

/** Observers of task transitions (the head's event bus: each call returns at once while nobody listens). */
export interface TaskEvents {
  submitted(t: ReadonlyTask): void;
  changed(t: ReadonlyTask): void;
  /** `from.nodeId` set: the value stayed on that node and `result` is only a stand-in. */
  result(t: ReadonlyTask, result: Payload, from?: StoredFrom): void;
  info(t: ReadonlyTask, info: Readonly<Record<string, string | number | boolean>>): void;
}

/** The task table and its transitions. */
export class TaskManager {
  private readonly tasks = new Map<string, TaskRecord>();
  private rules: readonly PlacementRule[] = [];
  private classCache = new WeakMap<NormalizedTaskOptions, Map<string, { cls: SchedulingClass; ruleIndex?: number }>>();
  /** Ids of finished tasks, oldest first: past `keepFinished` the oldest records go (see retire). */
  private readonly finished = new Fifo<string>();
  /** Finished tasks whose records went, per kind and name: one of them and how many (for summaries). */
  private readonly retired = new Map<string, { readonly record: TaskRecord; count: number }>();

  /** Values of the secrets queued and running tasks refer to (memory only). */
  private readonly secrets: TaskSecrets;

  constructor(
    private readonly store: ObjectStore,
    private readonly dispatcher: LeaseDispatcher,
    private readonly io: TaskManagerIO,
    private readonly actors: ActorHooks,
    private readonly events: TaskEvents,
    /** Time and timers: retry backoff, task timeouts, cancel grace periods. */
    private readonly clock: Clock,
    private readonly keepFinished = KEEP_FINISHED_TASKS,
  ) {
    this.secrets = new TaskSecrets(io.secrets);
  }

  /** The record of a task, while the head keeps it. */
  task(taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskId);
  }

  /** Every record the head keeps, in submission order. */
  records(): IterableIterator<TaskRecord> {
    return this.tasks.values();
  }

  /** How many records the head keeps. */
  get size(): number {
    return this.tasks.size;
  }

  /** Finished tasks whose records went, per kind and name: one of them and how many. */
  retiredRecords(): IterableIterator<{ readonly record: TaskRecord; readonly count: number }> {
    return this.retired.values();
  }

  /** Replaces the placement rules; tasks submitted afterwards follow them. */
  setPlacementRules(rules: readonly PlacementRule[]): void {
    this.rules = rules;
    this.classCache = new WeakMap();
  }

  /**
   * Records a submission and starts resolving its arguments; throws, recording nothing, when an
   * actor creation is refused. `retryOf`: the failed task it resubmits (`orrery retry`).
   */
  submit(spec: TaskSubmission, jobId: string, parentId: string | undefined, retryOf?: string): TaskRecord {
    if (spec.kind === 'actor-create') this.actors.checkCreation(spec, jobId);
    const t: TaskRecord = {
      spec,
      jobId,
      parentId,
      retryOf,
      state: 'PENDING_ARGS_AVAIL',
      attempt: 0,
      retriesLeft: spec.options.maxRetries,
      depsLeft: 0,
      cancelled: false,
      lease: undefined,
      nodeId: undefined,
      children: undefined,
      ruleIndex: undefined,
      errorName: undefined,
      submittedAt: this.clock.now(),
      startedAt: undefined,
      endedAt: undefined,
      timer: undefined,
      execMs: undefined,
    };
    this.tasks.set(spec.taskId, t);
    this.store.createPending(spec.taskId, jobId, argumentIds(spec));
    this.events.submitted(t);
    if (parentId) {
      const parent = this.tasks.get(parentId);
      if (parent) (parent.children ??= []).push(spec.taskId);
    }
    if (spec.kind !== 'task') this.actors.submitted(t);
    this.resolveArgs(t);
    return t;
  }

  /** Runs a finished task again to rebuild its lost result (lineage reconstruction); counts as a retry. */
  rerun(t: TaskRecord): void {
    t.retriesLeft--;
    t.attempt++;
    t.state = 'PENDING_ARGS_AVAIL';
    t.depsLeft = 0;
    t.startedAt = undefined;
    t.endedAt = undefined;
    this.events.changed(t);
    this.resolveArgs(t);
  }

  private resolveArgs(t: TaskRecord): void {
    for (const a of t.spec.args) {
      if (!('ref' in a)) continue;
      if (!this.store.has(a.ref)) {
        this.fail(
          t,
          toErrorInfo(
            new ObjectLostError(
              a.ref,
              'no object with this id exists in this cluster (was the ref made by another cluster or session?)',
            ),
          ),
        );
        return;
      }
      if (this.store.isDone(a.ref)) continue;
      t.depsLeft++;
      this.store.whenDone(a.ref, () => this.depDone(t));
    }
    if (t.depsLeft === 0) this.argsReady(t);
  }

  private depDone(t: TaskRecord): void {
    if (t.state !== 'PENDING_ARGS_AVAIL') return;
    t.depsLeft--;
    if (t.depsLeft === 0) this.argsReady(t);
  }

  private argsReady(t: TaskRecord): void {
    if (t.state !== 'PENDING_ARGS_AVAIL') return;
    for (const a of t.spec.args) {
      if (!('ref' in a)) continue;
      const r = this.store.result(a.ref);
      if (r && !r.ok) {
        if (t.spec.kind === 'actor-create') this.actors.argsFailed(t, r.error);
        else this.fail(t, r.error);
        return;
      }
    }
    if (this.secrets.needsFetch(t.spec)) return this.fetchSecrets(t);
    if (t.spec.kind === 'task') this.dispatcher.enqueue(t, this.classFor(t));
    else this.actors.depsReady(t);
  }

  /** Reads a task's secrets before it is first queued; one that is missing fails it at once (a retry would not find it either). */
  private fetchSecrets(t: TaskRecord): void {
    const attempt = t.attempt;
    const current = () => t.state === 'PENDING_ARGS_AVAIL' && t.attempt === attempt;
    this.secrets.fetch(t.spec).then(
      (values) => {
        if (!current()) return;
        this.secrets.hold(t.spec.taskId, values);
        this.argsReady(t);
      },
      (err: unknown) => current() && this.fail(t, toErrorInfo(err)),
    );
  }

  /** The scheduling class of a task or actor creation, after placement rules. */
  classFor(t: TaskRecord): SchedulingClass {
    const o = t.spec.options;
    const kind = t.spec.kind === 'actor-create' ? 'actor' : (t.spec.variant ?? 'function');
    if (t.spec.kind === 'actor-create') {
      const p = applyPlacementRules(this.rules, { name: t.spec.name, kind }, o);
      t.ruleIndex = p.ruleIndex;
      return this.dispatcher.classOf({ ...o, ...p }, `actor:${t.spec.actorId}:${t.attempt}`);
    }
    const near = o.strategy === 'DEFAULT' ? this.io.locality(t) : undefined;
    if (near) {
      const p = applyPlacementRules(this.rules, { name: t.spec.name, kind }, o);
      t.ruleIndex = p.ruleIndex;
      return this.dispatcher.classOf({ ...o, ...p, strategy: { nodeId: near, soft: true } });
    }
    let byName = this.classCache.get(o);
    if (!byName) this.classCache.set(o, (byName = new Map()));
    let c = byName.get(t.spec.name);
    if (!c) {
      const p = applyPlacementRules(this.rules, { name: t.spec.name, kind }, o);
      c = { cls: this.dispatcher.classOf({ ...o, ...p }), ruleIndex: p.ruleIndex };
      byName.set(t.spec.name, c);
    }
    t.ruleIndex = c.ruleIndex;
    return c.cls;
  }

  /** Sends a task to its lease's node. */
  start(t: TaskRecord, lease: Lease, extra?: { maxConcurrency?: number }): void {
    const remoteArgs: [number, string][] = [];
    // What travels in the run message; a value that would take it past one frame is fetched apart.
    let inline = t.spec.args.reduce((n, a) => n + ('data' in a ? a.data.byteLength : 0), 0);
    const args: Payload[] = t.spec.args.map((a, i) => {
      if (!('ref' in a)) return a;
      const r = this.store.result(a.ref);
      if (r?.ok && inline + r.payload.data.byteLength <= MAX_VALUE_BYTES) {
        inline += r.payload.data.byteLength;
        return r.payload;
      }
      // Held by a node, lost, or too large to travel with the others: the worker fetches it, from its own node when it is there.
      remoteArgs.push([i, a.ref]);
      return EMPTY_PAYLOAD;
    });
    t.state = 'RUNNING';
    t.nodeId = lease.nodeId;
    t.startedAt = this.clock.now();
    this.events.changed(t);
    const o = t.spec.options;
    this.io.run(lease, {
      type: 'run',
      taskId: t.spec.taskId,
      attempt: t.attempt,
      leaseId: lease.id,
      name: t.spec.name,
      kind: t.spec.kind,
      codeHash: t.spec.codeHash,
      actorId: this.actors.realId(t.spec.actorId),
      method: t.spec.method,
      args,
      jobId: t.jobId,
      assigned: lease.cls.assigned,
      env: o.runtimeEnv?.env,
      workingDir: t.spec.workdir ? undefined : o.runtimeEnv?.workingDir,
      workdir: t.spec.workdir,
      pythonEnv: o.pythonEnv,
      maxConcurrency: extra?.maxConcurrency,
      nodeId: lease.nodeId,
      backend: this.io.backendOf(lease.nodeId),
      remoteArgs: remoteArgs.length > 0 ? remoteArgs : undefined,
      secrets: this.secrets.of(t.spec.taskId),
    });
    if (o.timeoutMs) t.timer = this.clock.setTimeout(() => this.timedOut(t), o.timeoutMs);
  }

  private timedOut(t: TaskRecord): void {
    if (t.state !== 'RUNNING' || !t.nodeId) return;
    const ms = t.spec.options.timeoutMs;
    const err = new TaskError(
      'TimeoutError',
      `task ran longer than its timeoutMs (${ms} ms) and was killed`,
      '',
      t.spec.name,
      t.nodeId,
    );
    this.io.cancelRunning(t, true);
    this.fail(t, toErrorInfo(err));
  }

  /** A worker reported success. */
  done(taskId: string, attempt: number, result: Payload, execMs?: number, from?: StoredFrom): void {
    const t = this.tasks.get(taskId);
    if (!t || t.attempt !== attempt || this.drained(t) || t.state !== 'RUNNING') return;
    t.execMs = execMs;
    if (t.cancelled) return this.fail(t, cancelledInfo(taskId, t.spec.name));
    this.settle(t);
    t.state = 'FINISHED';
    this.secrets.forget(taskId);
    this.store.resolve(taskId, result, from);
    if (t.spec.kind !== 'actor-create') this.retire(taskId);
    this.events.result(t, result, from);
    this.events.changed(t);
    if (t.spec.kind === 'actor-create') this.actors.created(t, undefined);
    else if (t.spec.kind === 'actor-call') this.actors.ended(t);
  }

  /**
   * Bounds the task table of a long-running head (Ray keeps 100,000 task events): past
   * `keepFinished` finished tasks, the oldest record goes once its result object is freed
   * (while the object lives, lineage may need the record to rebuild it). Failed tasks and actor
   * creations stay. Sessions keep every task's history on disk.
   */
  private retire(taskId: string): void {
    this.finished.push(taskId);
    // Two per finished task: the table shrinks faster than it grows, at O(1) per task.
    for (let i = 0; i < 2 && this.finished.length > this.keepFinished; i++) {
      const id = this.finished.shift()!;
      const t = this.tasks.get(id);
      if (t?.state !== 'FINISHED') continue;
      if (this.store.has(id)) {
        this.finished.push(id);
        continue;
      }
      this.tasks.delete(id);
      const key = `${t.spec.kind}:${t.spec.name}`;
      const r = this.retired.get(key);
      if (r) r.count++;
      else this.retired.set(key, { record: t, count: 1 });
    }
  }

  /** A worker reported that the task threw. */
  failed(taskId: string, attempt: number, error: ErrorInfo, cancelled: boolean, execMs?: number): void {
    const t = this.tasks.get(taskId);
    if (!t || t.attempt !== attempt || this.drained(t) || t.state !== 'RUNNING') return;
    t.execMs = execMs;
    if (t.cancelled || cancelled) return this.fail(t, cancelledInfo(taskId, t.spec.name));
    const wrapped = isOrreryError(error)
      ? error
      : toErrorInfo(new TaskError(error.name, error.message, error.stack ?? '', t.spec.name, t.nodeId ?? ''));
    if (t.spec.kind === 'task' && t.retriesLeft > 0 && retriable(t.spec.options.retryExceptions, error))
      return this.retry(t, 0, {
        name: error.name,
        message: `the previous attempt threw ${error.name}: ${error.message}`,
      });
    if (t.spec.kind === 'actor-create') {
      this.settle(t);
      t.state = 'FAILED';
      t.errorName = error.name;
      this.events.changed(t);
      this.actors.created(t, error);
      return;
    }
    if (!isOrreryError(error)) t.errorCause = error.name;
    this.fail(t, wrapped);
  }

  /**
   * Takes over a task submitted to an earlier head that an agent reports as running (or just
   * finished) for it: the record starts RUNNING on that node with no lease, so the result the
   * agent delivers next completes it like any other.
   */
  adopt(spec: TaskSubmission, jobId: string, nodeId: string, attempt: number): TaskRecord {
    const t = adoptedRecord(spec, jobId, attempt, this.clock.now(), nodeId);
    this.tasks.set(spec.taskId, t);
    this.store.createPending(spec.taskId);
    return t;
  }

  /**
   * Takes over the creation of an actor that outlived an earlier head in its agent: a record that
   * runs nothing (ActorManager.adopt waits for a lease on the actor's node, then `startAdopted`).
   * Not reported as submitted: the session already has it.
   */
  adoptActorCreation(spec: TaskSubmission, jobId: string, attempt: number): TaskRecord {
    const t = adoptedRecord(spec, jobId, attempt, this.clock.now());
    this.tasks.set(spec.taskId, t);
    this.store.createPending(spec.taskId, jobId);
    this.actors.submitted(t);
    return t;
  }

  /** The class an adopted actor's creation takes: its own resources, on the node that hosts it and nowhere else. */
  pinnedClassFor(t: TaskRecord, nodeId: string): SchedulingClass {
    const o = t.spec.options;
    return this.dispatcher.classOf(
      { ...o, strategy: { nodeId, soft: false } },
      `actor:${t.spec.actorId}:${t.attempt}:adopted`,
    );
  }

  /**
   * An adopted actor's creation got its lease: nothing is sent (the worker lives). When its
   * constructor had finished it completes now; otherwise the agent's result completes it.
   */
  startAdopted(t: TaskRecord, lease: Lease, created: boolean): void {
    t.state = 'RUNNING';
    t.nodeId = lease.nodeId;
    t.startedAt = this.clock.now();
    if (created) this.done(t.spec.taskId, t.attempt, serializeValue(null, 'an adopted actor'));
  }

  /** Merges facts a task recorded about itself into its record (unknown tasks are ignored: they may be gone). */
  recordInfo(taskId: string, info: Readonly<Record<string, string | number | boolean>>): void {
    const t = this.tasks.get(taskId);
    if (!t || typeof info !== 'object' || info === null) return;
    t.info = { ...t.info, ...info };
    this.events.info(t, info);
  }

  /** The worker (or node) running these tasks died; a retry waits `retryDelayMs` first (backoff). */
  workerDied(t: TaskRecord, reason: string, retryDelayMs = 0): void {
    if (this.drained(t)) return;
    if (t.state !== 'RUNNING' && t.state !== 'PENDING_NODE_ASSIGNMENT') return;
    if (t.cancelled) return this.fail(t, cancelledInfo(t.spec.taskId, t.spec.name));
    if (t.spec.kind === 'task' && t.retriesLeft > 0)
      return this.retry(t, retryDelayMs, {
        name: 'WorkerCrashedError',
        message: `the previous attempt's worker or node was lost: ${reason}`,
      });
    if (t.spec.kind !== 'task') return;
    this.fail(t, toErrorInfo(new WorkerCrashedError(t.spec.name, reason)));
  }

  /** Runs a task again without charging its retries (its worker was killed to cancel another task). */
  requeue(t: TaskRecord): void {
    if (this.drained(t)) return;
    if (t.state !== 'RUNNING' && t.state !== 'PENDING_NODE_ASSIGNMENT') return;
    if (t.cancelled) return this.fail(t, cancelledInfo(t.spec.taskId, t.spec.name));
    t.retriesLeft++;
    this.retry(t, 0, {
      name: 'WorkerCrashedError',
      message: 'the previous attempt was stopped: its worker was killed to cancel another task',
    });
  }

  /** Runs the task again (same object id; a later attempt's outcome wins); `reason` says why. */
  retry(t: TaskRecord, delayMs = 0, reason?: TaskRecord['retryReason']): void {
    t.retryReason = reason;
    this.settle(t);
    t.retriesLeft--;
    t.attempt++;
    t.startedAt = undefined;
    if (t.spec.kind === 'task' && delayMs > 0) {
      t.state = 'PENDING_ARGS_AVAIL';
      const attempt = t.attempt;
      this.clock.setTimeout(
        () =>
          t.attempt === attempt &&
          t.state === 'PENDING_ARGS_AVAIL' &&
          !t.cancelled &&
          this.dispatcher.enqueue(t, this.classFor(t)),
        delayMs,
      );
    } else if (t.spec.kind === 'task') this.dispatcher.enqueue(t, this.classFor(t));
    else this.actors.depsReady(t);
    this.events.changed(t);
  }

  /** Fails a task with `error` (its result object carries it to every dependent). */
  fail(t: TaskRecord, error: ErrorInfo): void {
    if (t.state === 'FINISHED' || t.state === 'FAILED') return;
    if (t.state === 'PENDING_NODE_ASSIGNMENT') this.dispatcher.remove(t);
    this.settle(t);
    this.markFailed(t, error);
  }

  private markFailed(t: TaskRecord, error: ErrorInfo): void {
    t.state = 'FAILED';
    t.errorName = error.name;
    this.secrets.forget(t.spec.taskId);
    this.store.fail(t.spec.taskId, error);
    this.events.changed(t);
    if (t.spec.kind === 'actor-call') this.actors.ended(t);
  }

  /**
   * Cancels a task and, when `recursive`, the tasks it submitted (Ray's `ray.cancel`). A task
   * that has not started fails with TaskCancelledError and never runs; a finished one is left
   * alone. A running one, plainly cancelled: its `context.signal` aborts and its ref fails at
   * once; a function task's worker (and its resources) stays its own until it returns, for at
   * most `graceMs`, and is then killed and replaced, since JavaScript cannot interrupt code
   * that ignores the signal. An actor call is never killed (the actor's state must survive).
   * `force` kills a running function task's worker now; its ref fails when the death is reported.
   */
  cancel(taskId: string, force: boolean, recursive: boolean, graceMs = CANCEL_GRACE_MS): void {
    const t = this.tasks.get(taskId);
    if (!t) return;
    if (recursive) for (const c of t.children ?? []) this.cancel(c, force, true, graceMs);
    if (force && this.inGrace(t)) return this.graceOver(t);
    if (t.state === 'FINISHED' || t.state === 'FAILED' || t.cancelled) return;
    t.cancelled = true;
    const err = cancelledInfo(taskId, t.spec.name);
    if (t.state === 'PENDING_ARGS_AVAIL' || t.state === 'PENDING_NODE_ASSIGNMENT') {
      if (t.spec.kind !== 'task' && !this.actors.cancelQueued(t)) return;
      this.fail(t, err);
      return;
    }
    if (t.state !== 'RUNNING') return;
    if (force && t.spec.kind === 'task') return this.io.cancelRunning(t, true);
    this.io.cancelRunning(t, false);
    if (t.spec.kind === 'actor-call') return this.fail(t, err);
    if (t.spec.kind !== 'task') return;
    // The ref fails now; the lease slot stays held until the worker gives the task up (drained).
    if (t.timer) this.clock.clearTimeout(t.timer);
    t.endedAt = this.clock.now();
    this.markFailed(t, err);
    t.timer = this.clock.setTimeout(() => this.graceOver(t), graceMs);
  }

  /** A plainly cancelled function task whose ref failed while its worker still runs it. */
  private inGrace(t: TaskRecord): boolean {
    return t.spec.kind === 'task' && t.state === 'FAILED' && t.cancelled && t.lease !== undefined;
  }

  /** The grace period of a cancelled task ran out (or a force cancel followed): its worker is killed; the death report drains it. */
  private graceOver(t: TaskRecord): void {
    if (t.timer) this.clock.clearTimeout(t.timer);
    t.timer = undefined;
    if (this.inGrace(t)) this.io.cancelRunning(t, true);
  }

  /**
   * A task failed by a plain cancel left its worker (it returned, or its worker died): its lease
   * slot frees. True when `t` was such a task, so that the report changes nothing else.
   */
  private drained(t: TaskRecord): boolean {
    if (!this.inGrace(t)) return false;
    if (t.timer) this.clock.clearTimeout(t.timer);
    t.timer = undefined;
    this.dispatcher.taskEnded(t);
    return true;
  }

  private settle(t: TaskRecord): void {
    if (t.timer) this.clock.clearTimeout(t.timer);
    t.timer = undefined;
    t.endedAt = this.clock.now();
    if (t.spec.kind === 'task') this.dispatcher.taskEnded(t);
  }

  /** Fails a task that no node can ever run. */
  unschedulable(t: TaskRecord, reason: string): void {
    this.fail(t, toErrorInfo(new TaskUnschedulableError(t.spec.name, reason)));
  }
}

/** How long a plainly cancelled task may keep running, ignoring its signal, before its worker is killed (`cancel(ref, { graceMs })`). */
export const CANCEL_GRACE_MS = 5000;

/** Finished task records a head keeps once their result objects are freed (Ray's task_events_max_num_task_in_gcs). */
export const KEEP_FINISHED_TASKS = 100_000;

/** Stands in for an argument the worker fetches itself (RunMessage.remoteArgs). */
const EMPTY_PAYLOAD: Payload = { data: new Uint8Array(0), marked: false };

function retriable(policy: boolean | readonly string[], e: ErrorInfo): boolean {
  if (policy === true) return true;
  if (policy === false) return false;
  return policy.includes(e.name) || (e.chain ?? []).some((n) => policy.includes(n));
}
