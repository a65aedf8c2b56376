/** The agent's worker processes: spawned on demand, bound to a lease or an actor, reused when idle. */
import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { Channel } from '../protocol/channel.ts';
import type { Message } from '../protocol/messages.ts';

const WORKER_ENTRY = fileURLToPath(new URL(`./worker-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** One worker process as the agent sees it. */
export interface WorkerProcess {
  readonly id: string;
  readonly proc: ChildProcess;
  readonly channel: Channel;
  /** Code hashes this worker already has. */
  readonly sentCode: Set<string>;
  leaseId?: string;
  actorId?: string;
  dead: boolean;
}

/** Callbacks of the pool. */
export interface WorkerPoolEvents {
  message(w: WorkerProcess, m: Message): void;
  output(w: WorkerProcess, stream: 'stdout' | 'stderr', text: string): void;
  exit(w: WorkerProcess, reason: string): void;
}

/** Spawns and tracks workers. */
export class WorkerPool {
  private readonly idle: WorkerProcess[] = [];
  private readonly all = new Set<WorkerProcess>();
  private seq = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly events: WorkerPoolEvents,
    private readonly maxIdle: number,
  ) {}

  /** Starts `n` workers ahead of demand (worker start-up is the slow part of a first task). */
  prestart(n: number): void {
    for (let i = 0; i < n; i++) this.idle.push(this.spawn());
  }

  /** An idle worker, or a new one. */
  take(): WorkerProcess {
    let w = this.idle.pop();
    while (w?.dead) w = this.idle.pop();
    return w ?? this.spawn();
  }

  /** Returns a worker to the idle pool (or ends it when enough are idle). */
  giveBack(w: WorkerProcess): void {
    if (w.dead || w.actorId) return;
    w.leaseId = undefined;
    if (this.idle.length >= this.maxIdle) {
      w.dead = true;
      w.proc.kill('SIGKILL');
      return;
    }
    this.idle.push(w);
  }

  /** Kills a worker (its exit is reported through `exit`). */
  kill(w: WorkerProcess): void {
    w.proc.kill('SIGKILL');
  }

  /** Kills every worker. */
  killAll(): void {
    for (const w of this.all) {
      w.dead = true;
      w.proc.kill('SIGKILL');
    }
  }

  private spawn(): WorkerProcess {
    const id = `w${++this.seq}`;
    const proc = spawn(process.execPath, [...process.execArgv, WORKER_ENTRY], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...this.env,
        ORRERY_WORKER: JSON.stringify({ ...JSON.parse(this.env.ORRERY_WORKER ?? '{}'), workerId: id }),
      },
    });
    const sock = proc.stdio[3] as Duplex;
    const w: WorkerProcess = {
      id,
      proc,
      channel: new Channel(sock, sock, `worker ${id}`),
      sentCode: new Set(),
      dead: false,
    };
    this.all.add(w);
    w.channel.listen(
      (m) => this.events.message(w, m),
      () => {},
    );
    proc.stdout!.setEncoding('utf8').on('data', (t: string) => this.events.output(w, 'stdout', t));
    proc.stderr!.setEncoding('utf8').on('data', (t: string) => this.events.output(w, 'stderr', t));
    proc.on('exit', (code, signal) => {
      w.dead = true;
      this.all.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      this.events.exit(
        w,
        signal ? `worker pid ${proc.pid} was killed by ${signal}` : `worker pid ${proc.pid} exited with code ${code}`,
      );
    });
    return w;
  }
}
