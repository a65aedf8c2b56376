/** The driver's runtime when the head runs in the same process: requests are plain calls. */
import { newId } from '../core/ids.ts';
import type { Caller, Head } from '../head/head.ts';
import type { ClientRequest, ReplyTo } from '../protocol/messages.ts';
import type { CoreRuntime, RuntimeContext } from './runtime.ts';
import { RefTracker } from './ref-tracker.ts';
import type { ShmFolder } from '../core/shared-memory.ts';

/** Binds a driver (one job) to an in-process head. */
export class EmbeddedRuntime implements CoreRuntime {
  readonly sentCode = new Set<string>();
  readonly sharedPayloads = true;
  private readonly ctx: RuntimeContext;
  /** Who this driver is to the head, made once (every request names it). */
  private readonly caller: Caller;
  /** Tells the head which objects this driver still holds refs to. */
  readonly refs: RefTracker;
  readonly shm: ShmFolder | undefined;

  constructor(
    readonly head: Head,
    readonly jobId: string,
    private readonly onShutdown: () => Promise<void>,
  ) {
    // Same process as the head: it maps the head's shared-memory files and writes its large puts there.
    this.caller = { jobId, sharedMemory: true };
    this.shm = head.shm;
    this.ctx = {
      jobId,
      taskId: newId(),
      nodeId: head.queries.nodeIds()[0] ?? '',
      backend: 'driver',
      assignedResources: {},
      namespace: head.namespaceOf(jobId),
    };
    this.refs = new RefTracker((hold, release) => this.post({ op: 'refs', hold, release })).install();
  }

  post(req: ClientRequest): void {
    this.head.requests.post(req, this.caller);
  }

  call<R extends ClientRequest>(req: R): Promise<ReplyTo<R>> {
    return this.head.requests.call(req, this.caller);
  }

  context(): RuntimeContext {
    return this.ctx;
  }

  shutdown(): Promise<void> {
    this.refs.close();
    return this.onShutdown();
  }
}
