/**
 * What agents and workers tell the head: results, worker deaths, output, requests of running
 * tasks, and pulled values. Each message goes to the part of the head it concerns.
 */
import type { Payload } from '../core/serialization.ts';
import { isFileOf, payloadBytes } from '../core/shared-memory.ts';
import type { ActorManager } from '../control/actor-manager.ts';
import type { LeaseDispatcher } from '../control/lease-dispatcher.ts';
import { memoryKilled } from '../control/memory-kills.ts';
import type { TaskManager } from '../control/task-manager.ts';
import type { TaskRecord } from '../control/task-record.ts';
import type { ObjectPlane } from '../objects/object-plane.ts';
import type { TransferRoutes } from '../objects/transfer-routes.ts';
import type { Channel } from '../protocol/channel.ts';
import type { Message, NodeUsageMessage } from '../protocol/messages.ts';
import type { HeadEvents } from './head-events.ts';
import type { HeadRequests, RequestMessage } from './head-requests.ts';
import type { LogRouter } from './log-router.ts';
import type { NodeLink } from './node-link.ts';

/** Leases whose last task is remembered for late output. */
const LAST_TASKS_KEPT = 4096;

/** The parts of the head that node messages go to. */
export interface NodeMessageTargets {
  readonly tasks: TaskManager;
  readonly actors: ActorManager;
  readonly dispatcher: LeaseDispatcher;
  readonly objects: ObjectPlane;
  /** Direct transfers between agents: their addresses, copies and byte counts. */
  readonly transfers: TransferRoutes;
  readonly requests: HeadRequests;
  readonly logs: LogRouter;
  readonly events: HeadEvents;
  log(line: string): void;
  /** An agent's sample of its machine (head/usage-monitor.ts). */
  usage(nodeId: string, m: NodeUsageMessage): void;
}

/** Routes messages from nodes. */
export class NodeMessages {
  /** The last task each recent lease finished, for output that arrives after the lease ended (bounded). */
  private readonly lastTaskOfLease = new Map<string, TaskRecord>();

  constructor(private readonly t: NodeMessageTargets) {}

  /** A message from `node`'s agent, or over `link` from one of its workers directly. */
  handle(node: NodeLink, m: Message, link?: Channel): void {
    const { tasks, actors, dispatcher, objects } = this.t;
    // A payload naming a file is read or linked by the head: only files in the node's own shared-memory folder.
    const stray = payloadsOf(m).find((p) => p.shm && !isFileOf(node.shmDir, p.shm.path));
    if (stray)
      return (link ?? node.channel).close(
        `malformed message: it names ${stray.shm!.path}, not a file of the node's shared memory`,
      );
    switch (m.type) {
      case 'done':
      case 'failed': {
        const done = tasks.task(m.taskId);
        const lease = done?.lease;
        if (lease) {
          this.rememberLastTask(lease.id, done!);
          if (m.workerId) dispatcher.workerBound(lease, m.workerId, link);
        }
        if (m.type === 'done')
          return tasks.done(m.taskId, m.attempt, m.result, m.execMs, {
            nodeId: m.stored ? node.nodeId : undefined,
            sizeBytes: m.sizeBytes,
            nestedRefs: m.nestedRefs,
          });
        return tasks.failed(m.taskId, m.attempt, m.error, m.cancelled === true, m.execMs);
      }
      case 'worker-died': {
        objects.workerDied(node.nodeId, m.workerId);
        if (m.actorId) actors.workerDied(m.actorId, m.reason);
        const lease = m.leaseId ? dispatcher.lease(m.leaseId) : undefined;
        if (lease && !m.actorId) {
          const killed = dispatcher.workerLost(lease);
          for (const t of [...lease.inflight]) {
            if (killed) tasks.requeue(t);
            else if (m.memory) memoryKilled(tasks, t, m.memory, this.t.log);
            else tasks.workerDied(t, m.reason);
          }
        }
        return;
      }
      case 'log': {
        const lease = m.leaseId ? dispatcher.lease(m.leaseId) : actors.leaseOf(m.actorId);
        // Output can arrive after the result, once the lease went back: it belongs to the lease's last task.
        const t: TaskRecord | undefined = m.taskId
          ? tasks.task(m.taskId)
          : (lease?.inflight.values().next().value ?? (m.leaseId ? this.lastTaskOfLease.get(m.leaseId) : undefined));
        if (this.t.events.active)
          this.t.events.log({
            nodeId: node.nodeId,
            taskId: t?.spec.taskId,
            stream: m.stream,
            text: m.text,
            attempt: m.attempt ?? t?.attempt,
          });
        return this.t.logs.append(node.nodeId, {
          taskId: t?.spec.taskId,
          name: t?.spec.name ?? actors.classNameOf(m.actorId),
          attempt: m.attempt ?? t?.attempt,
          stream: m.stream,
          text: m.text,
        });
      }
      case 'request':
        return this.fromTask(m, link ?? node.channel, node.nodeId, node.sharesMemory);
      case 'object':
        if (m.payload) this.t.transfers.relayed(m.objectId, payloadBytes(m.payload));
        return objects.arrived(node.nodeId, m.objectId, m.payload);
      case 'transfer-ready': {
        const key = this.t.transfers.ready(node.nodeId, m);
        if (key) return node.send(key);
        // Without the token the node serves nobody and fetches through the head: it still works.
        return this.t.log(
          `orrery: node ${node.nodeId} announced a malformed object transfer address; its objects go through the head`,
        );
      }
      case 'locate': {
        const sources = this.t.transfers.sources(node.nodeId, m.objectId, objects.nodeOf(m.objectId));
        return node.send({ type: 'located', objectId: m.objectId, sources });
      }
      case 'object-copied':
        // A copy that arrived after its object was freed is dropped at once.
        if (!objects.known(m.objectId)) return node.send({ type: 'free-objects', ids: [m.objectId] });
        if (m.resumes > 0)
          this.t.log(
            `orrery: object ${m.objectId} reached node ${node.nodeId} from node ${m.fromNodeId} after ${m.resumes} dropped connection(s), resumed where each stopped`,
          );
        return this.t.transfers.copied(node.nodeId, m);
      case 'transfer-failed':
        this.t.log(`orrery: node ${node.nodeId} fetches object ${m.objectId} through the head: ${m.reason}`);
        return this.t.transfers.failed(node.nodeId, m);
      case 'usage':
        return this.t.usage(node.nodeId, m);
      default:
        (link ?? node.channel).close(`unexpected ${m.type} message from an agent`);
    }
  }

  /** A running task's request: served like a driver's, on behalf of the task's job and worker. */
  private fromTask(m: RequestMessage, replyTo: Channel, nodeId: string, sharedMemory: boolean): void {
    const caller = {
      sharedMemory,
      jobId: this.t.tasks.task(m.callerTaskId)?.jobId ?? '',
      taskId: m.callerTaskId || undefined,
      holder: `${nodeId}/${m.workerId ?? ''}`,
      nodeId,
    };
    this.t.requests.answer(m, caller, replyTo);
  }

  private rememberLastTask(leaseId: string, t: TaskRecord): void {
    this.lastTaskOfLease.set(leaseId, t);
    if (this.lastTaskOfLease.size > LAST_TASKS_KEPT)
      this.lastTaskOfLease.delete(this.lastTaskOfLease.keys().next().value!);
  }
}

/** The values a message from a node or a driver carries (a result, a pulled object, a put or a submission's arguments). */
export function payloadsOf(m: Message): readonly Payload[] {
  if (m.type === 'done') return [m.result];
  if (m.type === 'object') return m.payload ? [m.payload] : [];
  if (m.type !== 'request') return [];
  if (m.req.op === 'put') return [m.req.payload];
  if (m.req.op === 'submit') return m.req.task.args.filter((a): a is Payload => !('ref' in a));
  return [];
}
