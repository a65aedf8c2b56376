/**
 * The head's object plane: binds the object store to the rest of the head (nodes for pulls
 * and frees, the task table for lineage and locality) and serves the object requests of
 * drivers and tasks (put, get, reference counts). Holders are named per process:
 * `driver:<jobId>` for a driver, `<nodeId>/<workerId>` for a worker.
 */
import type { ClientRequest, Message, ObjectResult } from '../protocol/messages.ts';
import type { Payload } from '../core/serialization.ts';
import { ObjectPulls } from './object-pulls.ts';
import type { ObjectStore } from './object-store.ts';
import { argumentIds, enableLineageReconstruction, type LineageTask, type LineageTasks } from './lineage.ts';
import { preferredNode } from './locality.ts';

/** Who makes an object request. */
export interface ObjectCaller {
  readonly jobId: string;
  /** The process (set for workers; drivers are named by their job). */
  readonly holder?: string;
  /** The node the caller runs on (workers). */
  readonly nodeId?: string;
}

/** What the object plane needs from the head. */
export interface ObjectPlaneIO {
  /** Sends to a live node; false if it is gone. */
  send(nodeId: string, m: Message): boolean;
  isAlive(nodeId: string): boolean;
  log(line: string): void;
}

/** What the object plane needs of the task table (control/task-manager.ts): lineage, and the locality hint it gives it. */
export interface ObjectPlaneTasks<T extends LineageTask> extends LineageTasks<T> {
  /** The node a ready task should prefer (where its large arguments live). */
  locality: ((t: T) => string | undefined) | undefined;
}

/** The name a process holds refs under. */
export function holderOf(c: ObjectCaller): string {
  return c.holder ?? `driver:${c.jobId}`;
}

/** Object requests and object events of the head; `T` is the task table's record type. */
export class ObjectPlane<T extends LineageTask = LineageTask> {
  private readonly pulls: ObjectPulls;

  constructor(private readonly store: ObjectStore, tasks: ObjectPlaneTasks<T>, io: ObjectPlaneIO) {
    this.pulls = new ObjectPulls(io.send);
    store.pull = (nodeId, id) => this.pulls.pull(nodeId, id);
    store.freeOnNode = (nodeId, ids) => io.send(nodeId, { type: 'free-objects', ids });
    enableLineageReconstruction(store, tasks, io.log);
    tasks.locality = (t) => {
      const ids = argumentIds(t.spec);
      return ids.length === 0 ? undefined : preferredNode(ids.map((id) => store.locationOf(id)), io.isAlive);
    };
  }

  /** A `put`: its caller holds it; a worker's large value stayed on the worker's node. */
  put(req: Extract<ClientRequest, { op: 'put' }>, c: ObjectCaller): void {
    const from = { nodeId: req.stored ? c.nodeId : undefined, sizeBytes: req.sizeBytes, nestedRefs: req.nestedRefs };
    this.store.put(req.id, req.payload, c.jobId, holderOf(c), from);
  }

  /** A task was submitted: its caller holds the ref to its result (actor creations return none). */
  submitted(taskId: string, kind: string, c: ObjectCaller): void {
    if (kind !== 'actor-create') this.store.hold(taskId, holderOf(c));
  }

  /** A process reports refs it now holds and refs it dropped. */
  refs(req: Extract<ClientRequest, { op: 'refs' }>, c: ObjectCaller): void {
    const h = holderOf(c);
    for (const id of req.hold) this.store.hold(id, h);
    for (const id of req.release) this.store.release(id, h);
  }

  /** The values of done objects for `get` (the caller holds the refs inside them from now on). */
  results(ids: readonly string[], c: ObjectCaller): Promise<ObjectResult[]> {
    return this.store.results(ids, holderOf(c));
  }

  /** A node answered a pull. */
  arrived(nodeId: string, id: string, payload: Payload | undefined): void {
    this.pulls.arrived(nodeId, id, payload);
  }

  /** A worker died: the refs it held are dropped. */
  workerDied(nodeId: string, workerId: string): void {
    this.store.releaseHolder(`${nodeId}/${workerId}`);
  }

  /** A node died: its workers' refs are dropped and the values only it held are lost. */
  nodeDied(nodeId: string): void {
    this.store.nodeDied(nodeId);
    this.pulls.nodeDied(nodeId);
    this.store.releaseHolder(`${nodeId}/`, true);
  }

  /** A driver's job ended: its refs are dropped; what it owned that others reach fails with OwnerDiedError. */
  jobEnded(jobId: string): void {
    this.store.ownerDied(jobId, `driver:${jobId}`);
  }
}
