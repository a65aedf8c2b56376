/**
 * The runtime bound to the API inside a worker process: requests go to the head through the
 * agent, tagged with the task that made them (found through AsyncLocalStorage, so concurrent
 * async actor calls each act as themselves).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fromErrorInfo, TaskCancelledError, toErrorInfo } from '../core/errors.ts';
import type { Payload } from '../core/serialization.ts';
import type { ClientRequest, Message, ObjectResult, ReplyTo, ShippedDir } from '../protocol/messages.ts';
import type { CoreRuntime, RuntimeContext } from '../api/runtime.ts';
import type { WorkerObjects } from './worker-objects.ts';
import type { SecretMask } from './secret-mask.ts';

/** What the worker knows of the task running in the current async context. */
export interface TaskScope {
  readonly context: RuntimeContext;
  /** Number of get/wait calls of this task now waiting (the executor may start other work). */
  blocked: number;
  cancelled: boolean;
  /** Aborted on cancel; tasks (and command processes) may listen to `context.signal`. */
  readonly abort?: AbortController;
  /** Rejecters of this task's outstanding get/wait calls, for cancellation. */
  readonly pending: Set<(err: Error) => void>;
  onBlockedChange?: () => void;
  /** Masks the task's secret values in what it writes (set when its run carried secrets). */
  readonly mask?: SecretMask;
  /** The shipped working directory the task runs in; tasks it submits inherit it. */
  readonly workdir?: ShippedDir;
  /** The task's attempt (0 first, one more per retry), sent with its output so late lines keep theirs. */
  readonly attempt?: number;
}

/** The head's reply to a `get`. */
type GetReply = ReplyTo<{ op: 'get'; ids: string[] }>;

/** Worker-side CoreRuntime. */
export class WorkerRuntime implements CoreRuntime {
  readonly scope = new AsyncLocalStorage<TaskScope>();
  readonly sentCode = new Set<string>();
  readonly sharedPayloads = false;
  private nextRequest = 1;
  private readonly replies = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    private readonly send: (m: Message) => void,
    private readonly workerId: string,
    private readonly idle: RuntimeContext,
    private readonly objects?: WorkerObjects,
  ) {}

  private current(): TaskScope | undefined {
    return this.scope.getStore();
  }

  inheritedWorkdir(): ShippedDir | undefined {
    return this.current()?.workdir;
  }

  post(req: ClientRequest): void {
    if (req.op === 'put' && this.objects) {
      // A large put stays on this node; the head learns only where it is.
      const off = this.objects.offload(req.id, req.payload);
      if (off) req = { ...req, payload: off.payload, stored: true, sizeBytes: off.sizeBytes };
    }
    this.send({
      type: 'request',
      requestId: 0,
      callerTaskId: this.current()?.context.taskId ?? '',
      workerId: this.workerId,
      req,
    });
  }

  call<R extends ClientRequest>(req: R): Promise<ReplyTo<R>> {
    if (req.op !== 'get') return this.request(req);
    // Without an agent to fetch from, every value comes through the head.
    if (!this.objects) return this.request({ ...req, relay: true });
    return this.fetchDirect(req.ids, this.request(req) as Promise<GetReply>) as Promise<ReplyTo<R>>;
  }

  /** A `get` reply with the values the head left on nodes (`fetch`) fetched by {@link fetchValue}. */
  private async fetchDirect(ids: readonly string[], reply: Promise<GetReply>): Promise<GetReply> {
    const rs = await reply;
    if (!Array.isArray(rs) || !rs.some((r) => r.ok && r.fetch)) return rs;
    return Promise.all(
      rs.map((r, i): ObjectResult | Promise<ObjectResult> =>
        !r.ok || !r.fetch
          ? r
          : this.fetchValue(ids[i]!).then(
              (payload) => ({ ok: true, payload }),
              (err: unknown) => ({ ok: false, error: toErrorInfo(err) }),
            ),
      ),
    );
  }

  /**
   * An object's value: from this node's agent, which has it or fetches it straight from a node
   * that does (agent/object-transfers.ts), else through the head (`relay`).
   */
  async fetchValue(id: string): Promise<Payload> {
    const viaHead = async (id: string): Promise<ObjectResult> => {
      const r = await this.request({ op: 'get', ids: [id], relay: true });
      // Without a timeout the head answers once every object is done, never with { timedOut }.
      if (!Array.isArray(r)) throw new Error(`fetching object ${id} timed out`);
      return r[0]!;
    };
    if (this.objects) return this.objects.fetch(id, viaHead);
    const r = await viaHead(id);
    if (!r.ok) throw fromErrorInfo(r.error);
    return r.payload;
  }

  private request<R extends ClientRequest>(req: R): Promise<ReplyTo<R>> {
    const s = this.current();
    if (s?.cancelled) return Promise.reject(new TaskCancelledError(s.context.taskId, 'this task'));
    const requestId = this.nextRequest++;
    const blocking = req.op === 'get' || req.op === 'wait';
    return new Promise<ReplyTo<R>>((resolve, reject) => {
      const done = () => {
        this.replies.delete(requestId);
        if (s && blocking) {
          s.pending.delete(rejectCancel);
          s.blocked -= 1;
          s.onBlockedChange?.();
        }
      };
      const rejectCancel = (err: Error) => {
        done();
        reject(err);
      };
      this.replies.set(requestId, {
        resolve: (v) => {
          done();
          // The head's reply to this op is ReplyTo<R>: the wire carries it untyped.
          resolve(v as ReplyTo<R>);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      if (s && blocking) {
        s.pending.add(rejectCancel);
        s.blocked += 1;
        s.onBlockedChange?.();
      }
      this.send({ type: 'request', requestId, callerTaskId: s?.context.taskId ?? '', workerId: this.workerId, req });
    });
  }

  /** Routes a reply from the head to its caller. */
  reply(m: Extract<Message, { type: 'reply' }>): void {
    const r = this.replies.get(m.requestId);
    if (!r) return;
    if (m.ok) r.resolve(m.value);
    else r.reject(fromErrorInfo(m.error ?? { name: 'Error', message: 'request failed' }));
  }

  context(): RuntimeContext {
    return this.current()?.context ?? this.idle;
  }

  async shutdown(): Promise<void> {
    throw new Error('shutdown() cannot be called inside a task or actor; the driver ends the job');
  }
}
