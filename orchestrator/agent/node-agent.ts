/**
 * The node agent: reports the node's resources, runs tasks on a pool of workers, relays the
 * workers' requests to the head, and reports worker deaths. The same agent runs on every
 * kind of node; only the byte stream to the head differs.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { RESOURCE_UNIT } from '../core/resources.ts';
import { ActorDiedError, TaskCancelledError, toErrorInfo } from '../core/errors.ts';
import type { ShippedCode } from '../core/function-source.ts';
import type { HeadLink } from './detachable-head.ts';
import type { Message, RunMessage } from '../protocol/messages.ts';
import type { AgentSpec } from '../protocol/agent-spec.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { detectGpus } from './gpu-detect.ts';
import { GpuAllocator } from './gpu-allocator.ts';
import { WorkerPool, type WorkerProcess } from './worker-pool.ts';
import { NodeObjects } from './node-objects.ts';
import { AgentTransfers } from './object-transfers.ts';
import { inlinePayload, SHM_MIN_BYTES, ShmFolder } from '../core/shared-memory.ts';
import type { ProcessDir } from '../core/runtime-dir.ts';
import { containerRuntimesOnPath } from '../core/container-runtimes.ts';
import { containerLabels } from '../core/node-labels.ts';
import { defaultWorkerLimit, MemoryGuard } from './memory-guard.ts';
import { activationOf, PythonEnvs, type ReadyEnv } from './python-envs.ts';
import { UsageSampler } from './usage-sampler.ts';

/** What the agent process hands its NodeAgent besides the spec. */
export interface AgentRuntime {
  /** The agent's private folder (spills, command tasks' working folders); removed when it exits. */
  readonly dir: ProcessDir;
  /** The head's worker link secret (from ORRERY_WORKER_LINK_SECRET), passed on to workers in their environment. */
  readonly workerLinkSecret?: string;
}

/** Runs one node. */
export class NodeAgent {
  private readonly pool: WorkerPool;
  private readonly code = new Map<string, ShippedCode>();
  private readonly leases = new Map<string, WorkerProcess>();
  private readonly actors = new Map<string, WorkerProcess>();
  private readonly workers = new Map<string, WorkerProcess>();
  private readonly gpus: GpuAllocator;
  /** Large values this node's workers made (pulled by the head, read by local workers). */
  private readonly objects: NodeObjects;
  /** Direct transfers of objects to and from other nodes' agents. */
  private readonly transfers: AgentTransfers;
  /** This node's shared-memory folder (local nodes): its workers write large values there. */
  private readonly shm: ShmFolder | undefined;
  private readonly guard = new MemoryGuard<WorkerProcess>(
    (w) => this.pool.kill(w),
    (w) => w.proc.pid,
  );
  private readonly defaultMemoryLimit = defaultWorkerLimit();
  private readonly pythonEnvs = new PythonEnvs();
  /** Per lease: the run messages waiting for a Python environment (later runs of the lease queue behind them, in order). */
  private readonly envWaits = new Map<string, Promise<void>>();
  /** Runs waiting for their Python environment, by task id (a cancel drops them). */
  private readonly waitingForEnv = new Map<string, RunMessage>();
  /** Samples the machine's CPU, memory and GPUs for the head's usage history. */
  private readonly usage: UsageSampler;
  /** With AgentSpec.sharedWorker: the one worker every lease's plain tasks run in, and those leases. */
  private shared: { worker: WorkerProcess; leases: Set<string> } | undefined;

  constructor(
    private readonly head: HeadLink,
    private readonly config: AgentSpec,
    private readonly runtime: AgentRuntime,
  ) {
    // Only an agent on the head's machine (it has the head's socket) shares memory with it.
    // Told after the hello (the head reads nothing else first).
    let shmWarning: string | undefined;
    this.shm = config.headSocket ? ShmFolder.create('agent', (text) => (shmWarning = text)) : undefined;
    this.objects = new NodeObjects({
      memoryBytes: config.objectStoreMemory,
      spillDir: join(runtime.dir.path, 'spill'),
      log: (text) => head.send({ type: 'log', workerId: '', stream: 'stderr', text: `${text}\n` }),
    });
    const gpu = config.numGpus === undefined ? detectGpus() : { count: config.numGpus };
    const numCpus = config.numCpus ?? availableParallelism();
    this.gpus = new GpuAllocator(gpu.count);
    const labels: Record<string, string> = { ...containerLabels(containerRuntimesOnPath()), ...config.labels };
    if ('model' in gpu && gpu.model && !labels.accelerator) labels.accelerator = gpu.model;
    this.pool = new WorkerPool(
      {
        ORRERY_WORKER: JSON.stringify({
          nodeId: config.nodeId,
          backend: config.backend,
          headSocket: config.headSocket,
          ...(config.sharedWorker ? { concurrentTasks: true } : {}),
        }),
        ...(this.shm ? { ORRERY_SHM_DIR: this.shm.path } : {}),
        // Command tasks make their working folders here (api/command-runner.ts).
        ORRERY_RUNTIME_DIR: runtime.dir.subdir('work'),
        ...(runtime.workerLinkSecret ? { ORRERY_WORKER_LINK_SECRET: runtime.workerLinkSecret } : {}),
      },
      {
        message: (w, m) => this.fromWorker(w, m),
        output: (w, stream, text) =>
          this.head.send({ type: 'log', workerId: w.id, leaseId: w.leaseId, actorId: w.actorId, stream, text }),
        exit: (w, reason) => this.workerExited(w, reason),
      },
      Math.max(2, Math.ceil(numCpus) * 2),
    );
    this.pool.prestart(Math.min(Math.max(1, Math.floor(numCpus)), 8));
    head.listen(
      (m) => this.fromHead(m),
      () => this.exit(),
    );
    const resources: Record<string, number> = { CPU: numCpus, ...config.resources };
    if (gpu.count > 0) resources.GPU = gpu.count;
    head.send({
      type: 'hello',
      nodeId: config.nodeId,
      resources,
      labels,
      pid: process.pid,
      version: PROTOCOL_VERSION,
      shmDir: this.shm?.path,
    });
    if (shmWarning) head.send({ type: 'log', workerId: '', stream: 'stderr', text: `${shmWarning}\n` });
    this.transfers = new AgentTransfers(config, {
      send: (m) => head.send(m),
      // A value in shared memory is read from its file for a peer on another machine.
      lookup: async (id) => {
        const p = await this.objects.get(id);
        return p && inlinePayload(p);
      },
      // A fetched copy goes into shared memory when the node has it, so its workers map it.
      keep: (id, p) => {
        const shared = this.shm && p.data.byteLength >= SHM_MIN_BYTES ? this.shm.write(p.data, p) : undefined;
        this.objects.store(id, shared ?? p);
        return shared ?? p;
      },
    });
    void this.transfers.start();
    this.usage = new UsageSampler((m) => head.send(m), gpu.count > 0);
    this.usage.start();
  }

  private fromHead(m: Message): void {
    if (this.transfers.fromHead(m)) return;
    switch (m.type) {
      case 'run':
        return this.run(m);
      case 'cancel': {
        const waiting = this.waitingForEnv.get(m.taskId);
        if (waiting) {
          this.waitingForEnv.delete(m.taskId);
          const error = toErrorInfo(new TaskCancelledError(m.taskId, waiting.name));
          this.head.send({ type: 'failed', taskId: m.taskId, attempt: waiting.attempt, error, cancelled: true });
          return;
        }
        const w = m.actorId ? this.actors.get(m.actorId) : this.leases.get(m.leaseId ?? '');
        if (!w) return;
        if (m.force) this.pool.kill(w);
        else w.channel.send(m);
        return;
      }
      case 'lease-end': {
        const w = this.leases.get(m.leaseId);
        this.leases.delete(m.leaseId);
        this.gpus.release(m.leaseId);
        if (w && w === this.shared?.worker) {
          this.shared.leases.delete(m.leaseId);
          return;
        }
        if (w && w.leaseId === m.leaseId) {
          this.guard.unwatch(w);
          this.pool.giveBack(w);
        }
        return;
      }
      case 'kill-actor': {
        const w = this.actors.get(m.actorId);
        if (w) this.pool.kill(w);
        return;
      }
      case 'reply': {
        const w = m.workerId ? this.workers.get(m.workerId) : undefined;
        w?.channel.send(m);
        return;
      }
      case 'pull':
        void this.objects
          .get(m.objectId)
          .then((payload) => this.head.send({ type: 'object', objectId: m.objectId, payload }));
        return;
      case 'free-objects':
        return this.objects.free(m.ids);
      case 'shutdown':
        return this.exit();
      default:
        return;
    }
  }

  /**
   * A run whose task needs a Python environment waits (off the event loop) until the environment
   * is built or found; runs of the same lease queue behind it so they keep their order.
   */
  private run(m: RunMessage): void {
    if (m.code) this.code.set(m.code.hash, m.code);
    const key = m.actorId ?? m.leaseId;
    const before = this.envWaits.get(key);
    const ready = m.pythonEnv ? this.pythonEnvs.ready(m.pythonEnv) : undefined;
    if (!before && (!m.pythonEnv || ready)) return this.dispatch(ready ? activated(m, ready) : m);
    this.waitingForEnv.set(m.taskId, m);
    const wait = (async () => {
      await before;
      let run = m;
      try {
        if (m.pythonEnv) {
          const log = (text: string) =>
            this.head.send({
              type: 'log',
              workerId: '',
              leaseId: m.leaseId,
              taskId: m.taskId,
              attempt: m.attempt,
              stream: 'stderr',
              text,
            });
          run = activated(m, await this.pythonEnvs.ensure(m.pythonEnv, log));
        }
      } catch (err) {
        if (this.waitingForEnv.delete(m.taskId))
          this.head.send({ type: 'failed', taskId: m.taskId, attempt: m.attempt, error: toErrorInfo(err) });
        return;
      }
      if (this.waitingForEnv.delete(m.taskId)) this.dispatch(run);
    })();
    const queued = wait.finally(() => {
      if (this.envWaits.get(key) === queued) this.envWaits.delete(key);
    });
    this.envWaits.set(key, queued);
  }

  private dispatch(m: RunMessage): void {
    let w: WorkerProcess | undefined;
    let gpuOwner: string | undefined;
    if (m.kind === 'actor-call') {
      w = this.actors.get(m.actorId ?? '');
      if (!w) {
        const err = new ActorDiedError(m.actorId ?? '', m.name, 'its worker is gone');
        this.head.send({ type: 'failed', taskId: m.taskId, attempt: m.attempt, error: toErrorInfo(err) });
        return;
      }
      gpuOwner = m.actorId;
    } else if (m.kind === 'actor-create') {
      w = this.pool.take();
      w.actorId = m.actorId;
      this.actors.set(m.actorId!, w);
      gpuOwner = m.actorId;
    } else if (this.config.sharedWorker) {
      if (!this.shared || this.shared.worker.dead) this.shared = { worker: this.pool.take(), leases: new Set() };
      w = this.shared.worker;
      w.leaseId = m.leaseId;
      this.shared.leases.add(m.leaseId);
      this.leases.set(m.leaseId, w);
      gpuOwner = m.leaseId;
    } else {
      w = this.leases.get(m.leaseId);
      if (!w || w.dead) {
        w = this.pool.take();
        w.leaseId = m.leaseId;
        this.leases.set(m.leaseId, w);
      }
      gpuOwner = m.leaseId;
    }
    this.workers.set(w.id, w);
    this.guard.watch(w, m.assigned.memory ?? this.defaultMemoryLimit);
    const gpuUnits = Math.round((m.assigned.GPU ?? 0) * RESOURCE_UNIT);
    const gpuIds = gpuOwner && gpuUnits > 0 ? this.gpus.allocate(gpuOwner, gpuUnits) : undefined;
    const code = m.codeHash && !w.sentCode.has(m.codeHash) ? this.code.get(m.codeHash) : undefined;
    if (code) w.sentCode.add(code.hash);
    w.channel.send({ ...m, code, gpuIds, nodeId: this.config.nodeId, backend: this.config.backend });
  }

  /** Worker messages go to the head unchanged (they carry the worker's id). */
  private fromWorker(w: WorkerProcess, m: Message): void {
    if (m.type === 'done' || m.type === 'failed' || m.type === 'request' || m.type === 'log') this.head.send(m);
    else if (m.type === 'store-object') this.objects.store(m.objectId, m.payload);
    else if (m.type === 'tasks-in-hand') this.head.inHand?.(m);
    else if (m.type === 'fetch')
      void this.objects
        .get(m.objectId, 0)
        .then((payload) => payload ?? this.transfers.fetch(m.objectId))
        .then((payload) => w.channel.send({ type: 'object', objectId: m.objectId, payload }));
  }

  private workerExited(w: WorkerProcess, reason: string): void {
    // A worker that ran anything may hold refs: the head drops them when it hears of the exit.
    const ranTasks = this.workers.delete(w.id);
    this.guard.unwatch(w);
    const memory = this.guard.killed(w);
    if (w === this.shared?.worker) {
      // Every lease of the shared worker lost its task, not only the last one it was given.
      const leases = [...this.shared.leases];
      this.shared = undefined;
      for (const leaseId of leases) {
        if (this.leases.get(leaseId) === w) this.leases.delete(leaseId);
        this.gpus.release(leaseId);
        this.head.send({ type: 'worker-died', workerId: w.id, leaseId, reason, memory });
      }
      if (leases.length > 0) return;
    }
    const { leaseId, actorId } = w;
    if (leaseId && this.leases.get(leaseId) === w) {
      this.leases.delete(leaseId);
      this.gpus.release(leaseId);
    }
    if (actorId) {
      this.actors.delete(actorId);
      this.gpus.release(actorId);
    }
    if (leaseId || actorId || ranTasks)
      this.head.send({ type: 'worker-died', workerId: w.id, leaseId, actorId, reason, memory });
  }

  private exit(): void {
    this.guard.stop();
    this.usage.stop();
    this.pythonEnvs.stop();
    this.pool.killAll();
    this.transfers.close();
    this.objects.close();
    this.shm?.close();
    this.runtime.dir.remove();
    this.head.flush();
    setTimeout(() => process.exit(0), 10).unref();
  }
}

/** `m` with its Python environment activated: VIRTUAL_ENV or CONDA_PREFIX, and its bin folder first on the PATH. */
function activated(m: RunMessage, env: ReadyEnv): RunMessage {
  return { ...m, env: { ...m.env, ...activationOf(env, m.env?.PATH ?? process.env.PATH) } };
}
