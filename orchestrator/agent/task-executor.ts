/**
 * Runs the tasks a worker is given. Plain tasks run one at a time, except that while the
 * running task waits in get/wait the next one may start (so a nested task queued behind its
 * parent cannot deadlock it). An actor runs up to `maxConcurrency` calls at once, in order; a
 * node's shared worker (AgentSpec.sharedWorker) runs all its plain tasks at once.
 */
import { TaskCancelledError, toErrorInfo } from '../core/errors.ts';
import { loadCode, type ShippedCode } from '../core/function-source.ts';
import { deserializeValue, serializeValue, type Reviver } from '../core/serialization.ts';
import type { Message, RunMessage, ShippedDir } from '../protocol/messages.ts';
import type { Payload } from '../core/serialization.ts';
import type { WorkerObjects } from './worker-objects.ts';
import { reviver } from '../api/objects.ts';
import type { TaskScope, WorkerRuntime } from './worker-runtime.ts';
import { Fifo } from '../core/fifo.ts';
import { maskErrorInfo, secretMask } from './secret-mask.ts';
import { WorkingDirCache } from './working-dir-cache.ts';

/** Arguments of run `m`: a `secret()` reference becomes the value the head sent with the run. */
function argReviver(m: RunMessage): Reviver {
  return {
    actor: reviver.actor,
    secret: (name) => {
      const value = m.secrets?.[name];
      if (value === undefined)
        throw new TypeError(
          `secret ${name} of task ${m.name} did not come with its run; a head reads secrets only for tasks, not for actors`,
        );
      return value;
    },
  };
}

/** Executes RunMessages and reports `done` / `failed` through `send`. */
export class TaskExecutor {
  private readonly queue = new Fifo<RunMessage>();
  private readonly running = new Map<string, TaskScope>();
  private readonly code = new Map<string, ShippedCode>();
  private actor: { instance: Record<string, unknown>; maxConcurrency: number } | undefined;
  private creating = false;
  /** GPU ids the agent gave each lease or actor; runs sent straight from the head do not repeat them. */
  private readonly gpuIds = new Map<string, readonly number[]>();
  /** The folder this worker's actor was created in; its calls run there too. */
  private actorDir: string | undefined;
  private actorWorkdir: ShippedDir | undefined;

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly send: (m: Message) => void,
    private readonly workerId: string,
    private readonly objects?: WorkerObjects,
    private readonly workdirs: WorkingDirCache = new WorkingDirCache(),
    /** Plain tasks run at once rather than one by one (a node's shared worker, AgentSpec.sharedWorker). */
    private readonly concurrentTasks = false,
  ) {}

  /** Queues a task. */
  run(m: RunMessage): void {
    if (m.code) this.code.set(m.code.hash, m.code);
    const owner = m.actorId ?? m.leaseId;
    if (m.gpuIds) this.gpuIds.set(owner, m.gpuIds);
    else if (this.gpuIds.has(owner)) m = { ...m, gpuIds: this.gpuIds.get(owner) };
    this.queue.push(m);
    this.pump();
  }

  /** True while a task runs or waits to. */
  get busy(): boolean {
    return this.running.size > 0 || this.queue.length > 0;
  }

  /** Cancels a queued or running task (running: its pending get/wait calls reject). */
  cancel(taskId: string): void {
    const m = this.queue.removeWhere((q) => q.taskId === taskId);
    if (m) {
      this.send({
        type: 'failed',
        taskId,
        attempt: m!.attempt,
        error: toErrorInfo(new TaskCancelledError(taskId, m!.name)),
        cancelled: true,
        workerId: this.workerId,
      });
      return;
    }
    const s = this.running.get(taskId);
    if (!s) return;
    s.cancelled = true;
    s.abort?.abort(new TaskCancelledError(taskId, s.context.taskId));
    for (const reject of [...s.pending]) reject(new TaskCancelledError(taskId, s.context.taskId));
  }

  private canStart(): boolean {
    if (this.creating) return false;
    if (this.actor) return this.running.size < this.actor.maxConcurrency;
    if (this.concurrentTasks) return true;
    for (const s of this.running.values()) if (s.blocked === 0) return false;
    return true;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.canStart()) {
      const m = this.queue.shift()!;
      if (m.kind === 'actor-create') this.creating = true;
      void this.execute(m);
    }
  }

  private async execute(m: RunMessage): Promise<void> {
    const abort = new AbortController();
    const mask = m.secrets ? secretMask(Object.values(m.secrets)) : undefined;
    const scope: TaskScope = {
      abort,
      mask,
      context: {
        jobId: m.jobId,
        taskId: m.taskId,
        actorId: m.actorId,
        nodeId: m.nodeId ?? '',
        backend: m.backend ?? '',
        assignedResources: m.assigned,
        namespace: '',
        signal: abort.signal,
      },
      blocked: 0,
      cancelled: false,
      pending: new Set(),
      onBlockedChange: () => this.pump(),
      workdir: m.workdir ?? (m.kind === 'actor-call' ? this.actorWorkdir : undefined),
      attempt: m.attempt,
    };
    this.running.set(m.taskId, scope);
    let restoreEnv = noop;
    const t0 = performance.now();
    try {
      const shipped = m.workdir ? await this.runtime.scope.run(scope, () => this.shippedDir(m)) : undefined;
      const dir = shipped ?? m.workingDir ?? (m.kind === 'actor-call' ? this.actorDir : undefined);
      if (m.kind === 'actor-create') {
        this.actorDir = dir;
        this.actorWorkdir = m.workdir;
      }
      restoreEnv = applyEnv(m, dir, shipped !== undefined);
      const revive = argReviver(m);
      const args = (payloads: readonly Payload[]) => payloads.map((p) => deserializeValue(p, revive, { copy: false }));
      const result = await this.runtime.scope.run(scope, async () =>
        this.invoke(m, args(m.remoteArgs ? await this.fetchArgs(m) : m.args)),
      );
      if (scope.cancelled) throw new TaskCancelledError(m.taskId, m.name);
      const nestedRefs: string[] = [];
      const payload = serializeValue(result, `the result of ${m.name}`, nestedRefs, { copy: false });
      const off = this.objects?.offload(m.taskId, payload);
      this.send({
        type: 'done',
        taskId: m.taskId,
        attempt: m.attempt,
        result: off?.payload ?? payload,
        execMs: performance.now() - t0,
        workerId: this.workerId,
        stored: off ? true : undefined,
        sizeBytes: off?.sizeBytes,
        nestedRefs: nestedRefs.length > 0 ? nestedRefs : undefined,
      });
    } catch (err) {
      const error = mask ? maskErrorInfo(toErrorInfo(err), mask) : toErrorInfo(err);
      this.send({
        type: 'failed',
        taskId: m.taskId,
        attempt: m.attempt,
        error,
        cancelled: scope.cancelled || undefined,
        execMs: performance.now() - t0,
        workerId: this.workerId,
      });
    } finally {
      restoreEnv();
      this.running.delete(m.taskId);
      if (m.kind === 'actor-create') this.creating = false;
      this.pump();
    }
  }

  /** Arguments whose values stayed on a node: read from this node's agent, else through the head. */
  private async fetchArgs(m: RunMessage): Promise<Payload[]> {
    const args = [...m.args];
    await Promise.all(
      m.remoteArgs!.map(async ([i, id]) => {
        args[i] = await this.runtime.fetchValue(id);
      }),
    );
    return args;
  }

  /** The node's folder of the task's shipped working directory, unpacked first if the node lacks it. */
  private async shippedDir(m: RunMessage): Promise<string> {
    const d = m.workdir!;
    const got = await this.workdirs.ensure(d, async () => {
      const value = deserializeValue(await this.runtime.fetchValue(d.objectId), reviver, { copy: false });
      if (!(value instanceof Uint8Array)) throw new Error(`working directory object ${d.objectId} is not an archive`);
      return value;
    });
    this.runtime.post({
      op: 'task-info',
      taskId: m.taskId,
      info: { workingDir: d.hash, workingDirFetchedBytes: got.fetchedBytes, workingDirMs: Math.round(got.ms) },
    });
    return got.path;
  }

  private async invoke(m: RunMessage, args: unknown[]): Promise<unknown> {
    if (m.kind === 'actor-call') {
      const instance = this.actor?.instance;
      if (!instance) throw new Error(`actor ${m.actorId} is not running in this worker`);
      const fn = instance[m.method ?? ''];
      if (typeof fn !== 'function') throw new TypeError(`actor has no method ${m.method}`);
      return await (fn as (...a: unknown[]) => unknown).apply(instance, args);
    }
    const code = this.code.get(m.codeHash ?? '');
    if (!code) throw new Error(`the code of ${m.name} (${m.codeHash}) never reached this worker`);
    const target = loadCode(code);
    if (m.kind === 'actor-create') {
      const instance = new (target as new (...a: unknown[]) => Record<string, unknown>)(...args);
      this.actor = { instance, maxConcurrency: m.maxConcurrency ?? 1 };
      return null;
    }
    return await (target as (...a: unknown[]) => unknown)(...args);
  }
}

/**
 * Sets the task's env (runtimeEnv.env, CUDA_VISIBLE_DEVICES) and working folder `dir`; returns
 * the undo. A shipped folder is also named in ORRERY_WORKING_DIR, which command tasks copy.
 */
function applyEnv(m: RunMessage, dir: string | undefined, shipped: boolean): () => void {
  if (!m.env && !m.gpuIds && !dir) return noop;
  const vars: Record<string, string | undefined> = { ...m.env };
  if (m.gpuIds) vars.CUDA_VISIBLE_DEVICES = m.gpuIds.join(',');
  if (dir) vars.ORRERY_WORKING_DIR = shipped ? dir : undefined;
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const cwd = process.cwd();
  if (dir) process.chdir(dir);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (dir) process.chdir(cwd);
  };
}

function noop(): void {}
