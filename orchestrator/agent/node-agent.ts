/**
 * The node agent: reports the node's resources, runs tasks on a pool of workers, relays the
 * workers' requests to the head, and reports worker deaths. The same agent runs on every
 * kind of node; only the byte stream to the head differs.
 */
import { availableParallelism } from 'node:os';
import { RESOURCE_UNIT } from '../core/resources.ts';
import { ActorDiedError, toErrorInfo } from '../core/errors.ts';
import type { ShippedCode } from '../core/function-source.ts';
import type { Channel } from '../protocol/channel.ts';
import type { Message, RunMessage } from '../protocol/messages.ts';
import { detectGpus } from './gpu-detect.ts';
import { GpuAllocator } from './gpu-allocator.ts';
import { WorkerPool, type WorkerProcess } from './worker-pool.ts';

/** What a node offers; given by the backend that starts the agent. */
export interface AgentConfig {
  readonly nodeId: string;
  readonly backend: string;
  readonly numCpus?: number;
  readonly numGpus?: number;
  readonly resources?: Readonly<Record<string, number>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Protocol version; the head refuses agents of another. */
export const AGENT_VERSION = '1';

/** Runs one node. */
export class NodeAgent {
  private readonly pool: WorkerPool;
  private readonly code = new Map<string, ShippedCode>();
  private readonly leases = new Map<string, WorkerProcess>();
  private readonly actors = new Map<string, WorkerProcess>();
  private readonly workers = new Map<string, WorkerProcess>();
  private readonly taskWorker = new Map<string, WorkerProcess>();
  private readonly gpus: GpuAllocator;

  constructor(private readonly head: Channel, private readonly config: AgentConfig) {
    const gpu = config.numGpus === undefined ? detectGpus() : { count: config.numGpus };
    const numCpus = config.numCpus ?? availableParallelism();
    this.gpus = new GpuAllocator(gpu.count);
    const labels: Record<string, string> = { ...config.labels };
    if ('model' in gpu && gpu.model && !labels.accelerator) labels.accelerator = gpu.model;
    this.pool = new WorkerPool(
      { ORRERY_WORKER: JSON.stringify({ nodeId: config.nodeId, backend: config.backend }) },
      {
        message: (w, m) => this.fromWorker(w, m),
        output: (w, stream, text) => {
          const taskId = [...w.tasks.keys()].at(-1);
          this.head.send({ type: 'log', taskId, name: taskId ? w.tasks.get(taskId) : undefined, stream, text });
        },
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
    head.send({ type: 'hello', nodeId: config.nodeId, resources, labels, pid: process.pid, version: AGENT_VERSION });
  }

  private fromHead(m: Message): void {
    switch (m.type) {
      case 'run':
        return this.run(m);
      case 'cancel': {
        const w = this.taskWorker.get(m.taskId);
        if (!w) return;
        if (m.force) this.pool.kill(w);
        else w.channel.send(m);
        return;
      }
      case 'lease-end': {
        const w = this.leases.get(m.leaseId);
        this.leases.delete(m.leaseId);
        this.gpus.release(m.leaseId);
        if (w && w.leaseId === m.leaseId && w.tasks.size === 0) this.pool.giveBack(w);
        else if (w && w.leaseId === m.leaseId) w.leaseId = undefined;
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
      case 'shutdown':
        return this.exit();
      default:
        return;
    }
  }

  private run(m: RunMessage): void {
    if (m.code) this.code.set(m.code.hash, m.code);
    let w: WorkerProcess | undefined;
    let gpuOwner: string | undefined;
    if (m.kind === 'actor-call') {
      w = this.actors.get(m.actorId ?? '');
      if (!w) {
        const err = new ActorDiedError(m.actorId ?? '', m.name, 'its worker is gone');
        this.head.send({ type: 'failed', taskId: m.taskId, attempt: m.attempt, error: toErrorInfo(err) });
        return;
      }
    } else if (m.kind === 'actor-create') {
      w = this.pool.take();
      w.actorId = m.actorId;
      this.actors.set(m.actorId!, w);
      gpuOwner = m.actorId;
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
    const gpuUnits = Math.round((m.assigned.GPU ?? 0) * RESOURCE_UNIT);
    const gpuIds = gpuOwner && gpuUnits > 0 ? this.gpus.allocate(gpuOwner, gpuUnits) : undefined;
    const code = m.codeHash && !w.sentCode.has(m.codeHash) ? this.code.get(m.codeHash) : undefined;
    if (code) w.sentCode.add(code.hash);
    w.tasks.set(m.taskId, m.name);
    this.taskWorker.set(m.taskId, w);
    w.channel.send({ ...m, code, gpuIds, nodeId: this.config.nodeId, backend: this.config.backend });
  }

  private fromWorker(w: WorkerProcess, m: Message): void {
    if (m.type === 'done' || m.type === 'failed') {
      w.tasks.delete(m.taskId);
      this.taskWorker.delete(m.taskId);
      this.head.send(m);
      if (w.tasks.size === 0 && !w.actorId && w.leaseId === undefined) this.pool.giveBack(w);
      return;
    }
    if (m.type === 'request') {
      this.head.send({ ...m, workerId: w.id });
      return;
    }
    if (m.type === 'log') this.head.send(m);
  }

  private workerExited(w: WorkerProcess, reason: string): void {
    this.workers.delete(w.id);
    const taskIds = [...w.tasks.keys()];
    for (const t of taskIds) this.taskWorker.delete(t);
    if (w.leaseId) {
      this.leases.delete(w.leaseId);
      this.gpus.release(w.leaseId);
    }
    if (w.actorId) {
      this.actors.delete(w.actorId);
      this.gpus.release(w.actorId);
    }
    if (taskIds.length > 0 || w.actorId) this.head.send({ type: 'worker-died', taskIds, actorId: w.actorId, reason });
  }

  private exit(): void {
    this.pool.killAll();
    this.head.flush();
    setTimeout(() => process.exit(0), 10).unref();
  }
}
