/**
 * The head's object plane: serves the object requests of drivers and tasks (put, get,
 * reference counts), follows nodes and workers that die, and tells the scheduler where a task's
 * arguments live (locality). Holders are named per process: `driver:<jobId>` for a driver,
 * `<nodeId>/<workerId>` for a worker.
 */
import type { ErrorInfo } from '../core/errors.ts';
import type { ObjectResult, RequestOf, TaskSubmission } from '../protocol/messages.ts';
import type { Payload } from '../core/serialization.ts';
import type { ObjectPulls } from './object-pulls.ts';
import type { ObjectStore } from './object-store.ts';
import { inlinePayload } from '../core/shared-memory.ts';
import { argumentIds } from './lineage.ts';
import { preferredNode } from './locality.ts';

/** Who makes an object request. */
export interface ObjectCaller {
  readonly jobId: string;
  /** The process (set for workers; drivers are named by their job). */
  readonly holder?: string;
  /** The node the caller runs on (workers). */
  readonly nodeId?: string;
  /** The caller maps the head's shared-memory files; others get values as bytes. */
  readonly sharedMemory?: boolean;
}

/** What the object plane needs from the head. */
export interface ObjectPlaneIO {
  isAlive(nodeId: string): boolean;
}

/** The name a process holds refs under. */
export function holderOf(c: ObjectCaller): string {
  return c.holder ?? `driver:${c.jobId}`;
}

/** Object requests and object events of the head. */
export class ObjectPlane {
  constructor(
    private readonly store: ObjectStore,
    private readonly pulls: ObjectPulls,
    private readonly io: ObjectPlaneIO,
  ) {}

  /** Data locality: the live node holding most of a task's argument bytes, when that is worth waiting for. */
  preferredNode(spec: TaskSubmission): string | undefined {
    const ids = argumentIds(spec);
    return ids.length === 0
      ? undefined
      : preferredNode(
          ids.map((id) => this.store.locationOf(id)),
          this.io.isAlive,
        );
  }

  /** The node holding an object's value (the one that made it), if it stayed on a node. */
  nodeOf(id: string): string | undefined {
    return this.store.locationOf(id)?.nodeId;
  }

  /** True while the object exists (not freed). */
  known(id: string): boolean {
    return this.store.has(id);
  }

  /** A `put`: its caller holds it; a worker's large value stayed on the worker's node. */
  put(req: RequestOf<'put'>, c: ObjectCaller): void {
    const from = { nodeId: req.stored ? c.nodeId : undefined, sizeBytes: req.sizeBytes, nestedRefs: req.nestedRefs };
    this.store.put(req.id, req.payload, c.jobId, holderOf(c), from);
  }

  /** A value an earlier head's session kept (a reconnected driver asks for it): known again, held by the caller. */
  restored(id: string, payload: Payload, c: ObjectCaller): void {
    this.store.put(id, payload, c.jobId, holderOf(c));
  }

  /** A task was submitted: its caller holds the ref to its result (actor creations return none). */
  submitted(taskId: string, kind: string, c: ObjectCaller): void {
    if (kind !== 'actor-create') this.store.hold(taskId, holderOf(c));
  }

  /**
   * A request that was to make object `id` (a submission, a put) failed on the head: the caller
   * holds the object, and getting it raises `error`.
   */
  failed(id: string, error: ErrorInfo, c: ObjectCaller): void {
    this.store.createPending(id, c.jobId);
    this.store.hold(id, holderOf(c));
    this.store.fail(id, error);
  }

  /** A process reports refs it now holds and refs it dropped. */
  refs(req: RequestOf<'refs'>, c: ObjectCaller): void {
    const h = holderOf(c);
    for (const id of req.hold) this.store.hold(id, h);
    for (const id of req.release) this.store.release(id, h);
  }

  /** The values of done objects for `get` (the caller holds the refs inside them from now on). */
  results(ids: readonly string[], c: ObjectCaller): Promise<ObjectResult[]> {
    const rs = this.store.results(ids, holderOf(c));
    if (c.sharedMemory) return rs;
    return rs.then((all) =>
      all.map((r) => (r.ok && r.payload.shm ? { ok: true, payload: inlinePayload(r.payload) } : r)),
    );
  }

  /** A node answered a pull. */
  arrived(nodeId: string, id: string, payload: Payload | undefined): void {
    this.pulls.arrived(nodeId, id, payload);
  }

  /** A worker died: the refs it held are dropped. */
  workerDied(nodeId: string, workerId: string): void {
    this.store.releaseHolder(`${nodeId}/${workerId}`);
  }

  /** A node died: its workers' refs are dropped and the values only it held are lost (`copyOf`: a live node with a copy). */
  nodeDied(nodeId: string, copyOf?: (id: string) => string | undefined): void {
    this.store.nodeDied(nodeId, copyOf);
    this.pulls.nodeDied(nodeId);
    this.store.releaseHolder(`${nodeId}/`, true);
  }

  /** A driver's job ended: its refs are dropped; what it owned that others reach fails with OwnerDiedError. */
  jobEnded(jobId: string): void {
    this.store.ownerDied(jobId, `driver:${jobId}`);
  }
}
