/**
 * The runtime the public API is bound to: the driver's (embedded head, or a client of one) or,
 * inside a worker, the running task's. It sits in a global slot so that every copy of the
 * `orrery` module loaded in a process (source under tsx, or the built package) shares it.
 */
import type { ClientRequest, ReplyTo, ShippedDir } from '../protocol/messages.ts';
import type { ShmFolder } from '../core/shared-memory.ts';

/** What `getRuntimeContext()` returns. */
export interface RuntimeContext {
  readonly jobId: string;
  /** The running task's id (the driver's own id on the driver). */
  readonly taskId: string;
  readonly actorId?: string;
  readonly nodeId: string;
  readonly backend: string;
  readonly assignedResources: Readonly<Record<string, number>>;
  /** The namespace named actors are looked up in. */
  readonly namespace: string;
  /** Aborted when the running task is cancelled (cooperative cancellation; absent on the driver). */
  readonly signal?: AbortSignal;
}

/** The connection of the API to a head. */
export interface CoreRuntime {
  /**
   * Sends a request that needs no reply (submit, put), in order with the others. It never
   * throws for what the head does with it: a failure there fails what the request was to make
   * (head/head-requests.ts), the same in every mode.
   */
  post(req: ClientRequest): void;
  /** Sends a request and resolves with its reply, typed by the request (rejects with the head's error). */
  call<R extends ClientRequest>(req: R): Promise<ReplyTo<R>>;
  /** The context of the code running now. */
  context(): RuntimeContext;
  /** True when `get` results share their bytes with the store (then typed arrays are copied out). */
  readonly sharedPayloads: boolean;
  /** The head's shared-memory folder when the head runs in this process: large puts are written there once. */
  readonly shm?: ShmFolder;
  /** Hashes of code the head already has from this runtime. */
  readonly sentCode: Set<string>;
  /**
   * Inside a task: the shipped working directory it runs in, which tasks and actors it submits
   * without a `runtimeEnv.workingDir` of their own inherit (as in Ray). Undefined on a driver.
   */
  inheritedWorkdir?(): ShippedDir | undefined;
  /** Sends what `post` queued now, synchronously where the transport can (the process is exiting). */
  flush?(): void;
  /** Ends the runtime (driver: stops the embedded head or disconnects). */
  shutdown(): Promise<void>;
}

const SLOT = Symbol.for('orrery.runtime');
type Slot = { [SLOT]?: CoreRuntime };

/** The bound runtime; throws a clear error before `init()`. */
export function currentRuntime(): CoreRuntime {
  const rt = (globalThis as Slot)[SLOT];
  if (!rt)
    throw new Error(
      'orrery is not initialized: call `await init()` before submitting tasks, putting or getting objects.',
    );
  return rt;
}

/** The bound runtime, or undefined. */
export function maybeRuntime(): CoreRuntime | undefined {
  return (globalThis as Slot)[SLOT];
}

/** Binds the API to a runtime. */
export function installRuntime(rt: CoreRuntime | undefined): void {
  (globalThis as Slot)[SLOT] = rt;
}
