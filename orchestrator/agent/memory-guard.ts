/**
 * The agent's memory guard (Ray's memory monitor, per worker): polls the resident memory of
 * busy workers and kills one that goes over its limit, so a runaway task cannot take the node
 * down. The limit is the task's `memory` option, else a node-wide fraction of RAM
 * (`ORRERY_WORKER_MEMORY_FRACTION`, default 0.95). The head retries the task with backoff.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/** How often workers are measured (ms). */
export const MEMORY_POLL_MS = 250;
const PAGE_BYTES = 4096;

/** Resident memory of a process from /proc (undefined where /proc is missing or the process is gone). */
export function residentBytes(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(fields[1]) * PAGE_BYTES;
  } catch {
    return undefined;
  }
}

/** The node-wide limit of a worker whose task set no `memory`. */
export function defaultWorkerLimit(env: NodeJS.ProcessEnv = process.env, total = totalmem()): number {
  const f = Number(env.ORRERY_WORKER_MEMORY_FRACTION ?? '0.95');
  return Math.floor(total * (Number.isFinite(f) && f > 0 ? Math.min(f, 1) : 0.95));
}

/** Usage and limit of a killed worker. */
export interface MemoryKill {
  readonly usedBytes: number;
  readonly limitBytes: number;
}

/** Watches workers' memory. */
export class MemoryGuard<W extends object> {
  private readonly limits = new Map<W, number>();
  private readonly kills = new WeakMap<W, MemoryKill>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kill: (w: W) => void,
    private readonly pidOf: (w: W) => number | undefined,
    private readonly rss: (pid: number) => number | undefined = residentBytes,
    private readonly intervalMs = MEMORY_POLL_MS,
  ) {}

  /** Watches `w` with this limit (bytes) while it runs work. */
  watch(w: W, limitBytes: number): void {
    this.limits.set(w, limitBytes);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Stops watching `w` (its lease ended or it exited). */
  unwatch(w: W): void {
    this.limits.delete(w);
    if (this.limits.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Why `w` was killed, if the guard killed it. */
  killed(w: W): MemoryKill | undefined {
    return this.kills.get(w);
  }

  /** Measures every watched worker once; kills those over their limit. */
  check(): void {
    for (const [w, limitBytes] of this.limits) {
      const pid = this.pidOf(w);
      if (pid === undefined) continue;
      const used = this.rss(pid);
      if (used === undefined || used <= limitBytes) continue;
      this.kills.set(w, { usedBytes: used, limitBytes });
      this.unwatch(w);
      this.kill(w);
    }
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.limits.clear();
  }
}
