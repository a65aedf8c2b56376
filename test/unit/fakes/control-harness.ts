/**
 * The control layer (TaskManager, LeaseDispatcher, ActorManager, PlacementGroupManager) wired
 * as orchestrator/head/assemble-head.ts wires it, with the real scheduler and object store but
 * a fake clock advanced by hand and fake node I/O: runs and cancels sent to workers are
 * recorded, and the test answers for the workers (finished, threw, worker died).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, Timer } from '../../../orchestrator/core/clock.ts';
import { toErrorInfo, type ErrorInfo } from '../../../orchestrator/core/errors.ts';
import { newId } from '../../../orchestrator/core/ids.ts';
import {
  normalizeActorOptions,
  normalizeTaskOptions,
  type ActorOptions,
  type NormalizedTaskOptions,
  type TaskOptions,
} from '../../../orchestrator/core/options.ts';
import { amountsOf, unitsOf } from '../../../orchestrator/core/resources.ts';
import { deserializeValue, serializeValue } from '../../../orchestrator/core/serialization.ts';
import { ActorManager, type ActorChange } from '../../../orchestrator/control/actor-manager.ts';
import { LeaseDispatcher, type Lease } from '../../../orchestrator/control/lease-dispatcher.ts';
import { PlacementGroupManager } from '../../../orchestrator/control/placement-group-manager.ts';
import { TaskManager } from '../../../orchestrator/control/task-manager.ts';
import type { TaskRecord } from '../../../orchestrator/control/task-record.ts';
import { ObjectStore } from '../../../orchestrator/objects/object-store.ts';
import type { ArgSpec, RunMessage, TaskSubmission } from '../../../orchestrator/protocol/messages.ts';
import { ClusterScheduler } from '../../../orchestrator/scheduler/cluster-scheduler.ts';

/** A clock whose time moves only when the test calls `advance`; timers fire in time order. */
export class FakeClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  private readonly timers = new Map<Timer, { at: number; seq: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer = {};
    this.timers.set(timer, { at: this.t + Math.max(0, ms), seq: this.seq++, fn });
    return timer;
  }

  clearTimeout(timer: Timer): void {
    this.timers.delete(timer);
  }

  /** Timers not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, firing each timer that falls due on the way (and those they set). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [Timer, { at: number; seq: number; fn: () => void }] | undefined;
      for (const e of this.timers)
        if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq)))
          next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

/** What a test sees of one object: still pending, a value, or an error's class name. */
export type Outcome = 'pending' | { value: unknown } | { error: string; message: string };

/** A worker's answer, by error name (`retryExceptions` matches the name or the class chain). */
function thrown(name: string, message = `${name} thrown by the task`, chain: string[] = [name, 'Error']): ErrorInfo {
  return { name, message, stack: '', chain };
}

/** The control layer of a head on fake nodes. */
export class ControlHarness {
  readonly clock = new FakeClock();
  readonly scheduler = new ClusterScheduler({ infeasibleGraceMs: 5000 });
  readonly store: ObjectStore;
  readonly dispatcher: LeaseDispatcher;
  readonly actors: ActorManager;
  readonly tasks: TaskManager;
  readonly placementGroups: PlacementGroupManager;
  /** Every run sent to a worker, in order. */
  readonly runs: RunMessage[] = [];
  /** Every cancel sent to a worker: `force` kills the worker. */
  readonly cancels: { taskId: string; force: boolean }[] = [];
  /** Actors whose worker the head told a node to kill. */
  readonly actorKills: string[] = [];
  /** Actor changes the session would record (created, adopted, restarted, died). */
  readonly actorChanges: ActorChange[] = [];
  /** Leases given back to their node. */
  readonly leaseEnds: string[] = [];
  /** Leases whose worker the head asked a node to kill; `deliverKills` reports their deaths. */
  private readonly killed = new Set<Lease>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'orrery-control-'));
  readonly jobId = 'job-1';

  constructor() {
    this.store = new ObjectStore(
      { memoryBytes: 1 << 30, spillDir: join(this.dir, 'spill') },
      {
        pull: async () => undefined,
        freeOnNode: () => {},
        reconstruct: () => {},
      },
    );
    const events = {
      submitted: () => {},
      changed: () => {},
      result: () => {},
      info: () => {},
      actor: (c: ActorChange) => void this.actorChanges.push(c),
    };
    this.dispatcher = new LeaseDispatcher(
      this.scheduler,
      {
        start: (t, lease) => {
          const adopted = t.spec.kind === 'actor-create' ? this.actors.adoptedCreation(t) : undefined;
          if (adopted) return this.tasks.startAdopted(t, lease, adopted.created);
          this.tasks.start(
            t,
            lease,
            t.spec.kind === 'actor-create'
              ? { maxConcurrency: this.actors.maxConcurrencyOf(t.spec.actorId) }
              : undefined,
          );
        },
        unschedulable: (t, reason) =>
          t.spec.kind === 'actor-create' ? this.actors.unschedulable(t, reason) : this.tasks.unschedulable(t, reason),
        infeasible: () => {},
        leaseEnded: (lease) => void this.leaseEnds.push(lease.id),
        placementGroup: (d) => this.placementGroups.decided(d),
      },
      this.clock,
    );
    this.actors = new ActorManager(
      {
        fail: (t, error) => this.tasks.fail(t, error),
        start: (t, lease) => this.tasks.start(t, lease),
        classFor: (t) => this.tasks.classFor(t),
      },
      this.dispatcher,
      { namespaceOf: () => 'default', killOnNode: (_nodeId, actorId) => void this.actorKills.push(actorId) },
      events,
    );
    this.tasks = new TaskManager(
      this.store,
      this.dispatcher,
      {
        run: (_lease, m) => void this.runs.push(m),
        cancelRunning: (t, force) => {
          this.cancels.push({ taskId: t.spec.taskId, force });
          const lease = t.lease ?? this.actors.leaseOf(t.spec.actorId);
          if (force && lease) {
            this.dispatcher.killRequested(lease);
            this.killed.add(lease);
          }
        },
        backendOf: () => 'local',
        locality: () => undefined,
        secrets: { read: async () => undefined },
      },
      this.actors,
      events,
      this.clock,
    );
    this.placementGroups = new PlacementGroupManager(
      {
        scheduler: this.scheduler,
        dispatcher: this.dispatcher,
        tasks: this.tasks,
        actors: this.actors,
        store: this.store,
        log: () => {},
      },
      this.clock,
    );
  }

  /** Adds a node with these resources (user units, e.g. `{ CPU: 2 }`). */
  node(nodeId: string, total: Record<string, number>): void {
    this.dispatcher.apply(
      this.scheduler.handle({
        type: 'node-added',
        node: { nodeId, backend: 'local', total: unitsOf(total), labels: {} },
        now: this.clock.now(),
      }),
    );
  }

  /** Submits a function task; arguments that are `{ ref }` are object refs. Returns its id (= its object's id). */
  submit(name: string, options: TaskOptions = {}, args: unknown[] = [], parentId?: string): string {
    return this.submitSpec(
      {
        taskId: newId(),
        name,
        kind: 'task',
        codeHash: `code-${name}`,
        args: encode(args),
        options: normalizeTaskOptions(options, name),
      },
      parentId,
    );
  }

  /** Creates an actor; returns its id and the id of its creation task. */
  createActor(className: string, options: ActorOptions = {}): { actorId: string; createId: string } {
    const actorId = newId();
    const o = normalizeActorOptions(options, className, false);
    const createId = this.submitSpec({
      taskId: newId(),
      name: className,
      kind: 'actor-create',
      actorId,
      codeHash: `code-${className}`,
      args: [],
      options: o.task,
      actorOptions: o.actor,
      actor: { actorId, className, methods: ['m'], asyncMethods: false },
    });
    return { actorId, createId };
  }

  /**
   * The creation of an actor an earlier head made, as a resumed head rebuilds it from the session
   * (head/actor-resume.ts): a spec for `adoptActor`, `restartActor` or `buryActor`.
   */
  recordedActor(className: string, options: ActorOptions = {}): TaskSubmission {
    const actorId = newId();
    const o = normalizeActorOptions(options, className, false);
    return {
      taskId: newId(),
      name: className,
      kind: 'actor-create',
      actorId,
      codeHash: `code-${className}`,
      args: [],
      options: o.task,
      actorOptions: { ...o.actor, namespace: 'default' },
      actor: { actorId, className, methods: ['m'], asyncMethods: false },
    };
  }

  /** An agent that outlived the previous head reports hosting this actor: adopted as assemble-head.ts does. */
  adoptActor(spec: TaskSubmission, nodeId: string, numRestarts = 0, created = true): TaskRecord {
    const t = this.tasks.adoptActorCreation(spec, 'resumed', 0);
    this.actors.adopt(t, nodeId, numRestarts, created, this.tasks.pinnedClassFor(t, nodeId));
    return t;
  }

  /** An agent reports a call it still runs for an adopted actor (its result follows). */
  adoptCall(actorId: string, nodeId: string, method = 'm'): string {
    const spec: TaskSubmission = {
      taskId: newId(),
      name: `A.${method}`,
      kind: 'actor-call',
      actorId,
      method,
      args: [],
      options: CALL_OPTIONS,
    };
    this.actors.adoptedCall(this.tasks.adopt(spec, 'resumed', nodeId, 0));
    return spec.taskId;
  }

  /** An actor no agent reported, created again as a restart (Head.restartActor). */
  restartActor(spec: TaskSubmission, numRestarts: number, reason: string): void {
    const t = this.tasks.submit(spec, this.jobId, undefined);
    this.actors.restartedAfterHeadLoss(t, numRestarts, reason);
  }

  /** Calls a method of an actor; returns the call's id. */
  call(actorId: string, method: string, args: unknown[] = []): string {
    return this.submitSpec({
      taskId: newId(),
      name: `A.${method}`,
      kind: 'actor-call',
      actorId,
      method,
      args: encode(args),
      options: CALL_OPTIONS,
    });
  }

  /** Records a placement group of these bundles; returns its id. */
  placementGroup(
    bundles: Record<string, number>[],
    strategy: 'PACK' | 'SPREAD' | 'STRICT_PACK' | 'STRICT_SPREAD' = 'PACK',
  ): string {
    const id = newId();
    this.placementGroups.serve(
      { op: 'pg-create', placementGroupId: id, readyId: newId(), bundles, strategy, detached: false },
      this.jobId,
    );
    return id;
  }

  /** When a group was created (State API row). */
  createdAt(id: string): number | undefined {
    return [...this.placementGroups.rows()].find((r) => r.placementGroupId === id)?.createdAt;
  }

  removePlacementGroup(id: string): void {
    this.placementGroups.serve({ op: 'pg-remove', placementGroupId: id }, this.jobId);
  }

  private submitSpec(spec: TaskSubmission, parentId?: string): string {
    this.tasks.submit(this.placementGroups.admit(spec, parentId), this.jobId, parentId);
    return spec.taskId;
  }

  /** The head's record of a task. */
  record(taskId: string): TaskRecord {
    const t = this.tasks.task(taskId);
    if (!t) throw new Error(`no task ${taskId}`);
    return t;
  }

  /** The latest run sent for a task, or undefined if it was never sent to a worker. */
  lastRun(taskId: string): RunMessage | undefined {
    for (let i = this.runs.length - 1; i >= 0; i--) if (this.runs[i]!.taskId === taskId) return this.runs[i];
    return undefined;
  }

  /** How many times a task was sent to a worker. */
  runCount(taskId: string): number {
    return this.runs.filter((m) => m.taskId === taskId).length;
  }

  /** The worker reports success for the task's latest run. */
  finish(taskId: string, value: unknown = null): void {
    const m = this.sentRun(taskId);
    this.tasks.done(taskId, m.attempt, serializeValue(value, 'a result'), 1);
  }

  /** The worker reports that the task threw an error named `name` (its class chain: `chain`). */
  throw(taskId: string, name = 'Error', chain?: string[]): void {
    const m = this.sentRun(taskId);
    this.tasks.failed(taskId, m.attempt, thrown(name, undefined, chain), false, 1);
  }

  /** The worker reports that the task stopped because it was cancelled (it saw its signal). */
  stoppedOnCancel(taskId: string): void {
    const m = this.sentRun(taskId);
    this.tasks.failed(taskId, m.attempt, toErrorInfo(new Error('aborted')), true, 1);
  }

  /** The worker running a function task died (as node-messages.ts handles `worker-died` for a lease). */
  workerDied(taskId: string, reason = 'worker pid 1 exited with code 1'): void {
    const lease = this.record(taskId).lease;
    if (!lease) throw new Error(`task ${taskId} holds no lease`);
    this.leaseWorkerDied(lease, reason);
  }

  /** An actor's worker died. */
  actorWorkerDied(actorId: string, reason = 'worker pid 2 exited with code 1'): void {
    this.actors.workerDied(actorId, reason);
  }

  /** Nodes report the deaths of the workers the head asked them to kill. */
  deliverKills(): void {
    const leases = [...this.killed];
    this.killed.clear();
    for (const lease of leases) this.leaseWorkerDied(lease, 'worker killed on request');
  }

  /** Workers the head asked to kill whose deaths are not reported yet. */
  get pendingKills(): number {
    return this.killed.size;
  }

  private leaseWorkerDied(lease: Lease, reason: string): void {
    if (!this.dispatcher.lease(lease.id)) return;
    const killed = this.dispatcher.workerLost(lease);
    for (const t of [...lease.inflight]) {
      if (killed) this.tasks.requeue(t);
      else this.tasks.workerDied(t, reason);
    }
  }

  private sentRun(taskId: string): RunMessage {
    const m = this.lastRun(taskId);
    if (!m) throw new Error(`task ${taskId} was never sent to a worker`);
    return m;
  }

  /** The outcome of an object. */
  outcome(id: string): Outcome {
    const r = this.store.result(id);
    if (!r) return 'pending';
    if (r.ok) return { value: deserializeValue(r.payload, { actor: (d) => d, ref: (ref) => ref }) };
    return { error: r.error.name, message: r.error.message };
  }

  /** The error class name of a failed object, or 'pending' / 'ok'. */
  errorOf(id: string): string {
    const o = this.outcome(id);
    if (o === 'pending') return 'pending';
    return 'error' in o ? o.error : 'ok';
  }

  /** CPUs the scheduler has free on a node. */
  freeCpus(nodeId: string): number {
    const a = this.scheduler.available(nodeId);
    return a ? (amountsOf(a).CPU ?? 0) : 0;
  }

  /** Removes the temporary folder. */
  close(): void {
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Actor calls' options, as the API sends them. */
const CALL_OPTIONS: NormalizedTaskOptions = {
  resources: {},
  strategy: 'DEFAULT',
  maxRetries: 0,
  retryExceptions: false,
};

function encode(args: unknown[]): ArgSpec[] {
  return args.map((a) =>
    typeof a === 'object' && a !== null && 'ref' in a
      ? { ref: String((a as { ref: unknown }).ref) }
      : serializeValue(a, 'an argument'),
  );
}

/** An argument that is the object `id` (resolved before the task runs). */
export function ref(id: string): { ref: string } {
  return { ref: id };
}
