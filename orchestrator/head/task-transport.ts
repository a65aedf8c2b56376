/**
 * How runs and cancels reach a task's worker: straight over the worker's direct link to the
 * head when it has one (local nodes, once a result told the head which worker holds the lease),
 * otherwise through the node's agent. A function's code goes along the first time each
 * destination needs it.
 */
import type { ActorManager } from '../control/actor-manager.ts';
import type { Lease, LeaseDispatcher } from '../control/lease-dispatcher.ts';
import type { TaskRecord } from '../control/task-record.ts';
import type { ShippedCode } from '../core/function-source.ts';
import type { Message, RunMessage } from '../protocol/messages.ts';
import type { ClusterNodes } from './cluster-nodes.ts';

/** Sends runs and cancels to workers (the TaskManager's `run` and `cancelRunning`). */
export class TaskTransport {
  constructor(
    private readonly nodes: ClusterNodes,
    /** Code by hash, as submissions brought it (head-requests.ts). */
    private readonly code: ReadonlyMap<string, ShippedCode>,
    private readonly actors: Pick<ActorManager, 'leaseOf' | 'realId'>,
    private readonly dispatcher: Pick<LeaseDispatcher, 'killRequested'>,
  ) {}

  /**
   * Sends a run straight to the lease's worker when it has a direct link, else through the agent.
   * A run that needs a Python environment always goes through the agent, which builds or finds
   * it first (agent/python-envs.ts).
   */
  run(lease: Lease, m: RunMessage): void {
    const node = this.nodes.get(lease.nodeId);
    if (!node) return;
    const link = !m.pythonEnv && lease.link && !lease.link.isClosed ? lease.link : undefined;
    const sent = link ? lease.sentCode : node.sentCode;
    let code: ShippedCode | undefined;
    if (m.codeHash && !sent.has(m.codeHash)) {
      code = this.code.get(m.codeHash);
      sent.add(m.codeHash);
    }
    const msg: RunMessage = code ? { ...m, code } : m;
    if (link) link.send(msg);
    else node.send(msg);
  }

  /** Interrupts a running task; `force` kills its worker (always through the agent, which owns the process). */
  cancel(t: TaskRecord, force: boolean): void {
    const node = t.nodeId ? this.nodes.get(t.nodeId) : undefined;
    if (!node) return;
    const lease = t.lease ?? this.actors.leaseOf(t.spec.actorId);
    const actorId = t.spec.kind === 'task' ? undefined : this.actors.realId(t.spec.actorId);
    // A task that waits for its Python environment is still at the agent, not at the worker.
    const atAgent = t.spec.options.pythonEnv !== undefined;
    const link = !force && !atAgent && lease?.link && !lease.link.isClosed ? lease.link : undefined;
    const msg: Message = { type: 'cancel', taskId: t.spec.taskId, force, leaseId: lease?.id, actorId };
    if (force && lease) this.dispatcher.killRequested(lease);
    if (link) link.send(msg);
    else node.send(msg);
  }
}
