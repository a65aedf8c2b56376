/**
 * Actors: creation, calls in submission order, restarts (maxRestarts / maxTaskRetries),
 * names and namespaces, kill, and death with ActorDiedError for every call that cannot run.
 * A head resuming a session also adopts actors that outlived the previous head in their agents
 * (`adopt`), and restarts or buries those that did not (`lostWithHead`).
 */
import { ActorDiedError, fromErrorInfo, toErrorInfo, type ErrorInfo } from '../core/errors.ts';
import type { ActorDescriptor } from '../core/serialization.ts';
import type { TaskSubmission } from '../protocol/messages.ts';
import type { ActorRow, ActorState } from '../protocol/state-rows.ts';
import type { LeaseDispatcher, Lease, SchedulingClass } from './lease-dispatcher.ts';
import type { ActorHooks, TaskEvents } from './task-manager.ts';
import type { TaskRecord } from './task-record.ts';

interface ActorRecord {
  readonly desc: ActorDescriptor;
  readonly create: TaskRecord;
  readonly jobId: string;
  readonly namespace: string;
  readonly name: string | undefined;
  readonly detached: boolean;
  state: ActorState;
  restartsLeft: number;
  numRestarts: number;
  readonly maxTaskRetries: number;
  readonly maxConcurrency: number;
  readonly queue: TaskRecord[];
  readonly inflight: Set<TaskRecord>;
  lease: Lease | undefined;
  deathReason: string | undefined;
}

/** What the actor manager needs from the head. */
export interface ActorIO {
  namespaceOf(jobId: string): string;
  killOnNode(nodeId: string, actorId: string): void;
}

/** What the actor manager asks of the task table (the TaskManager, which is built after it). */
export interface ActorTasks {
  fail(t: TaskRecord, error: ErrorInfo): void;
  start(t: TaskRecord, lease: Lease): void;
  classFor(t: TaskRecord): SchedulingClass;
}

/** An actor's new state and why (recorded by the session: creations, adoptions, restarts, deaths). */
export interface ActorChange {
  readonly actorId: string;
  readonly className: string;
  readonly name: string | undefined;
  readonly state: ActorState;
  readonly nodeId?: string;
  readonly numRestarts: number;
  readonly detail?: string;
}

/** What the manager tells about actors (the session records it). */
export interface ActorEvents extends TaskEvents {
  /** An actor was created, adopted, restarted or died; `detail` says why. */
  actor?(change: ActorChange): void;
}

/** Creations refused on the head that the manager remembers, for the calls on their handles (the oldest are forgotten past this). */
const KEEP_REFUSED = 1000;

/** The actor table. */
export class ActorManager implements ActorHooks {
  private readonly actors = new Map<string, ActorRecord>();
  private readonly aliases = new Map<string, string>();
  private readonly names = new Map<string, string>();
  /** Why the creation of an actor id failed before it was recorded (a duplicate name): its calls fail saying so. */
  private readonly refused = new Map<string, ErrorInfo>();
  /** Named actors of a resumed session that were lost with its head and may not restart: `getActor` says so (namespace NUL name -> error). */
  private readonly lostNames = new Map<string, ErrorInfo>();
  /** Creation records of adopted actors waiting for their lease on the node that hosts them: whether their constructor had finished. */
  private readonly adopting = new Map<TaskRecord, { readonly created: boolean }>();

  constructor(
    private readonly tasks: ActorTasks,
    private readonly dispatcher: LeaseDispatcher,
    private readonly io: ActorIO,
    private readonly events: ActorEvents,
  ) {}

  private resolve(actorId: string | undefined): ActorRecord | undefined {
    if (!actorId) return undefined;
    return this.actors.get(this.aliases.get(actorId) ?? actorId);
  }

  submitted(t: TaskRecord): void {
    const spec = t.spec;
    if (spec.kind === 'actor-create') return this.register(t);
    const a = this.resolve(spec.actorId);
    if (!a)
      return this.tasks.fail(
        t,
        this.refusedCall(t) ??
          toErrorInfo(new ActorDiedError(spec.actorId ?? '', spec.name, 'no such actor in this cluster')),
      );
    t.retriesLeft = a.maxTaskRetries;
    if (a.state === 'DEAD') return this.tasks.fail(t, died(a));
    a.queue.push(t);
  }

  /**
   * Throws when a creation cannot be recorded: its name is taken by a live actor in its namespace
   * (and it did not ask for `getIfExists`). Called before the task table records the creation.
   */
  checkCreation(spec: TaskSubmission, jobId: string): void {
    const o = spec.actorOptions;
    if (!o?.name || o.getIfExists) return;
    const namespace = o.namespace ?? this.io.namespaceOf(jobId);
    const existing = this.resolve(this.names.get(`${namespace}\u0000${o.name}`));
    if (existing && existing.state !== 'DEAD') {
      throw new Error(
        `an actor named "${o.name}" already exists in namespace "${namespace}"; use getActor("${o.name}"), pick another name, or pass getIfExists: true`,
      );
    }
  }

  /** A creation failed on the head before it was recorded: calls on its handle fail with ActorDiedError saying why. */
  creationFailed(spec: TaskSubmission, error: ErrorInfo): void {
    if (!spec.actorId) return;
    this.refused.set(
      spec.actorId,
      toErrorInfo(
        new ActorDiedError(spec.actorId, spec.actor?.className ?? spec.name, `its creation failed: ${error.message}`),
      ),
    );
    if (this.refused.size > KEEP_REFUSED) this.refused.delete(this.refused.keys().next().value!);
  }

  private refusedCall(t: TaskRecord): ErrorInfo | undefined {
    return t.spec.actorId === undefined ? undefined : this.refused.get(t.spec.actorId);
  }

  private register(t: TaskRecord): void {
    const spec = t.spec;
    const o = spec.actorOptions!;
    const namespace = o.namespace ?? this.io.namespaceOf(t.jobId);
    const key = o.name ? `${namespace}\u0000${o.name}` : undefined;
    const existing = key ? this.resolve(this.names.get(key)) : undefined;
    if (existing && existing.state !== 'DEAD' && o.getIfExists) {
      this.aliases.set(spec.actorId!, existing.desc.actorId);
      t.state = 'FINISHED';
      return;
    }
    const a: ActorRecord = {
      desc: spec.actor!,
      create: t,
      jobId: t.jobId,
      namespace,
      name: o.name,
      detached: o.detached,
      state: 'DEPENDENCIES_UNREADY',
      restartsLeft: o.maxRestarts,
      numRestarts: 0,
      maxTaskRetries: o.maxTaskRetries,
      maxConcurrency: o.maxConcurrency,
      queue: [],
      inflight: new Set(),
      lease: undefined,
      deathReason: undefined,
    };
    this.actors.set(spec.actorId!, a);
    if (key) {
      this.names.set(key, spec.actorId!);
      this.lostNames.delete(key);
    }
  }

  depsReady(t: TaskRecord): void {
    const a = this.resolve(t.spec.actorId);
    if (!a) return;
    if (t.spec.kind === 'actor-create') {
      if (a.state === 'DEAD') return;
      a.state = a.state === 'RESTARTING' ? 'RESTARTING' : 'PENDING_CREATION';
      this.dispatcher.enqueue(t, this.tasks.classFor(t));
      return;
    }
    t.state = 'PENDING_NODE_ASSIGNMENT';
    this.pump(a);
  }

  /** How many calls the actor runs at once (sent with its creation). */
  maxConcurrencyOf(actorId: string | undefined): number {
    return this.resolve(actorId)?.maxConcurrency ?? 1;
  }

  created(t: TaskRecord, error: ErrorInfo | undefined): void {
    const a = this.resolve(t.spec.actorId);
    if (!a) return;
    a.lease = t.lease;
    t.lease?.inflight.delete(t);
    this.adopting.delete(t);
    if (!error) {
      a.state = 'ALIVE';
      this.changed(a);
      this.pump(a);
      return;
    }
    const reason = `its constructor threw ${error.name}: ${error.message}`;
    if (a.restartsLeft > 0) return this.restart(a, reason);
    this.die(a, reason);
  }

  ended(t: TaskRecord): void {
    const a = this.resolve(t.spec.actorId);
    if (!a) return;
    a.inflight.delete(t);
    const i = a.queue.indexOf(t);
    if (i >= 0) a.queue.splice(i, 1);
    this.pump(a);
  }

  cancelQueued(t: TaskRecord): boolean {
    const a = this.resolve(t.spec.actorId);
    if (!a || t.spec.kind !== 'actor-call') return false;
    const i = a.queue.indexOf(t);
    if (i < 0) return false;
    a.queue.splice(i, 1);
    return true;
  }

  /** The actor's worker (or node) died. */
  workerDied(actorId: string, reason: string): void {
    const a = this.resolve(actorId);
    if (!a || a.state === 'DEAD') return;
    if (a.lease) this.dispatcher.release(a.lease);
    a.lease = undefined;
    const interrupted = [...a.inflight];
    a.inflight.clear();
    const c = a.create;
    if (c.state === 'RUNNING' || c.state === 'PENDING_NODE_ASSIGNMENT') this.dispatcher.remove(c);
    for (const t of interrupted.reverse()) {
      if (t.retriesLeft > 0) {
        t.retriesLeft--;
        t.attempt++;
        t.state = 'PENDING_NODE_ASSIGNMENT';
        a.queue.unshift(t);
      } else {
        this.tasks.fail(t, died(a, `it died while running this call (${reason})`));
      }
    }
    if (a.restartsLeft > 0) return this.restart(a, reason);
    this.die(a, reason);
  }

  argsFailed(t: TaskRecord, error: ErrorInfo): void {
    const a = this.resolve(t.spec.actorId);
    t.state = 'FAILED';
    t.errorName = error.name;
    this.events.changed(t);
    if (a) this.die(a, `a constructor argument failed with ${error.name}: ${error.message}`);
  }

  realId(actorId: string | undefined): string | undefined {
    return actorId === undefined ? undefined : (this.aliases.get(actorId) ?? actorId);
  }

  /** The lease an actor lives on. */
  leaseOf(actorId: string | undefined): Lease | undefined {
    return this.resolve(actorId)?.lease;
  }

  /** The class name of an actor (for log prefixes). */
  classNameOf(actorId: string | undefined): string | undefined {
    return this.resolve(actorId)?.desc.className;
  }

  /** No node can ever host the actor: it is dead, and its calls fail saying why. */
  unschedulable(t: TaskRecord, reason: string): void {
    const a = this.resolve(t.spec.actorId);
    t.state = 'FAILED';
    t.errorName = 'TaskUnschedulableError';
    this.events.changed(t);
    if (a) this.die(a, `it cannot be scheduled: ${reason}`);
  }

  /** A node died: actors placed there lost their worker. */
  nodeDied(nodeId: string, reason: string): void {
    for (const a of [...this.actors.values()])
      if (a.state !== 'DEAD' && a.lease?.nodeId === nodeId) this.workerDied(a.desc.actorId, reason);
  }

  /** `kill(handle)`: with noRestart the actor is dead; otherwise it restarts if it may. `reason` ends up in its ActorDiedError. */
  kill(actorId: string, noRestart: boolean, reason = 'it was killed with kill()'): void {
    const a = this.resolve(actorId);
    if (!a || a.state === 'DEAD') return;
    const nodeId = a.lease?.nodeId ?? a.create.nodeId;
    if (noRestart) this.die(a, reason);
    if (nodeId) this.io.killOnNode(nodeId, a.desc.actorId);
    else if (!noRestart) this.workerDied(a.desc.actorId, reason);
  }

  /** A driver ended: its actors die unless detached. */
  jobEnded(jobId: string): void {
    for (const a of this.actors.values()) if (a.jobId === jobId && !a.detached) this.kill(a.desc.actorId, true);
  }

  /** Whether this head knows the actor (an agent that reconnects to the same head reports actors it already has). */
  knows(actorId: string): boolean {
    return this.resolve(actorId) !== undefined;
  }

  /**
   * An agent that outlived the previous head hosts this actor, whose creation `t` (registered by
   * `submitted`) was recorded by that head: the actor takes a lease pinned to `nodeId`, and once
   * it has it (`adoptedCreation`) its calls go to the same worker, whose state is intact.
   * `created`: its constructor had finished (else its result is still to come from the agent).
   */
  adopt(t: TaskRecord, nodeId: string, numRestarts: number, created: boolean, pin: SchedulingClass): void {
    const a = this.resolve(t.spec.actorId);
    if (!a) return;
    a.numRestarts = numRestarts;
    a.restartsLeft = Math.max(0, a.restartsLeft - numRestarts);
    a.state = 'PENDING_CREATION';
    this.adopting.set(t, { created });
    this.changed(a, `adopted from the agent on node ${nodeId} that outlived the previous head`);
    this.dispatcher.enqueue(t, pin);
  }

  /** The dispatcher gave an adopted actor's creation its lease: whether its constructor had finished; undefined for any other task. */
  adoptedCreation(t: TaskRecord): { readonly created: boolean } | undefined {
    return this.adopting.get(t);
  }

  /** An adopted call the agent still runs (its result follows): it counts as in flight on its actor. */
  adoptedCall(t: TaskRecord): void {
    const a = this.resolve(t.spec.actorId);
    if (a && a.state !== 'DEAD') a.inflight.add(t);
  }

  /**
   * An actor of the session that no agent reported (its node is gone, or the agents' grace ran
   * out) and that may restart: its creation `t` was submitted again, and this counts as one of
   * its `maxRestarts` (`numRestarts` were used before).
   */
  restartedAfterHeadLoss(t: TaskRecord, numRestarts: number, reason: string): void {
    const a = this.resolve(t.spec.actorId);
    if (!a) return;
    a.numRestarts = numRestarts + 1;
    a.restartsLeft = Math.max(0, a.restartsLeft - numRestarts - 1);
    if (a.state !== 'DEAD') a.state = 'RESTARTING';
    a.deathReason = reason;
    this.changed(a, `restart ${a.numRestarts} of ${a.numRestarts + a.restartsLeft}: ${reason}`);
  }

  /**
   * An actor of the session that no agent reported and that may not restart: it is dead, and
   * every call on its handle fails with ActorDiedError saying why.
   */
  lostWithHead(spec: TaskSubmission, reason: string): void {
    if (!spec.actorId || !spec.actor) return;
    const error = toErrorInfo(new ActorDiedError(spec.actorId, spec.actor.className, reason));
    this.refused.set(spec.actorId, error);
    if (this.refused.size > KEEP_REFUSED) this.refused.delete(this.refused.keys().next().value!);
    const o = spec.actorOptions;
    if (o?.name && o.namespace !== undefined) this.lostNames.set(`${o.namespace}\u0000${o.name}`, error);
    this.events.actor?.({
      actorId: spec.actorId,
      className: spec.actor.className,
      name: spec.actorOptions?.name,
      state: 'DEAD',
      numRestarts: 0,
      detail: reason,
    });
  }

  /** The descriptor of a live named actor. */
  lookup(name: string, namespace: string): ActorDescriptor {
    const a = this.resolve(this.names.get(`${namespace}\u0000${name}`));
    const lost = this.lostNames.get(`${namespace}\u0000${name}`);
    if ((!a || a.state === 'DEAD') && lost) throw fromErrorInfo(lost);
    if (!a || a.state === 'DEAD')
      throw new Error(
        `no live actor named "${name}" in namespace "${namespace}"; create it first (remote(Class).options({ name })), or pass { namespace } if it lives in another one`,
      );
    return a.desc;
  }

  /** Rows for the State API. */
  *rows(): Iterable<ActorRow> {
    for (const a of this.actors.values()) {
      yield {
        actorId: a.desc.actorId,
        className: a.desc.className,
        name: a.name ?? '',
        namespace: a.namespace,
        state: a.state,
        nodeId: a.lease?.nodeId ?? '',
        jobId: a.jobId,
        numRestarts: a.numRestarts,
        detached: a.detached,
        deathCause: a.deathReason ?? '',
      };
    }
  }

  private restart(a: ActorRecord, reason: string): void {
    a.restartsLeft--;
    a.numRestarts++;
    a.state = 'RESTARTING';
    a.deathReason = reason;
    this.changed(a, `restart ${a.numRestarts} of ${a.numRestarts + a.restartsLeft}: ${reason}`);
    const c = a.create;
    c.attempt++;
    c.state = 'PENDING_ARGS_AVAIL';
    c.lease = undefined;
    this.depsReady(c);
  }

  private die(a: ActorRecord, reason: string): void {
    a.state = 'DEAD';
    if (a.create.state !== 'FINISHED' && a.create.state !== 'FAILED') a.create.state = 'FAILED';
    a.deathReason = reason;
    if (a.lease) this.dispatcher.release(a.lease);
    a.lease = undefined;
    if (a.name && this.names.get(`${a.namespace}\u0000${a.name}`) === a.desc.actorId)
      this.names.delete(`${a.namespace}\u0000${a.name}`);
    const err = died(a);
    for (const t of [...a.queue.splice(0), ...a.inflight]) this.tasks.fail(t, err);
    a.inflight.clear();
    this.changed(a, reason);
  }

  private changed(a: ActorRecord, detail?: string): void {
    this.events.actor?.({
      actorId: a.desc.actorId,
      className: a.desc.className,
      name: a.name,
      state: a.state,
      nodeId: a.lease?.nodeId ?? a.create.nodeId,
      numRestarts: a.numRestarts,
      detail,
    });
  }

  private pump(a: ActorRecord): void {
    if (a.state !== 'ALIVE' || !a.lease) return;
    while (a.queue.length > 0) {
      const t = a.queue[0]!;
      if (t.state === 'FAILED' || t.state === 'FINISHED') {
        a.queue.shift();
        continue;
      }
      if (t.state !== 'PENDING_NODE_ASSIGNMENT') return;
      a.queue.shift();
      a.inflight.add(t);
      this.tasks.start(t, a.lease);
    }
  }
}

function died(a: ActorRecord, detail?: string): ErrorInfo {
  return toErrorInfo(new ActorDiedError(a.desc.actorId, a.desc.className, detail ?? a.deathReason ?? 'unknown cause'));
}
