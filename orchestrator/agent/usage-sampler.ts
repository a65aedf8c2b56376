/**
 * Samples what the node's machine uses (CPU, memory, and GPUs through `nvidia-smi`) every few
 * seconds and sends it to the head as a `usage` message; the head keeps the history
 * (head/usage-history.ts). `nvidia-smi` runs only on a node with GPUs, asynchronously, and is
 * given up after it fails (a node whose GPUs were declared without the tool).
 */
import { execFile } from 'node:child_process';
import { cpus, freemem, totalmem } from 'node:os';
import type { GpuUsage, NodeUsageMessage } from '../protocol/messages.ts';

/** How often the agent samples. */
export const USAGE_SAMPLE_MS = 2000;

/** The query the sampler runs; its CSV rows are `util, memUsed, memTotal` per GPU. */
export const GPU_QUERY_ARGS = [
  '--query-gpu=utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
] as const;

/** Parses `nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`; rows that are not three numbers ("[N/A]") are left out. */
export function parseGpuUsage(csv: string): GpuUsage[] {
  const out: GpuUsage[] = [];
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => Number(c.trim()));
    if (cells.length !== 3 || cells.some((n) => !Number.isFinite(n))) continue;
    out.push({ util: cells[0]!, memUsedMb: cells[1]!, memTotalMb: cells[2]! });
  }
  return out;
}

/** Total and idle CPU time over every core, for the busy fraction between two readings. */
function cpuTimes(): { total: number; idle: number } {
  let total = 0;
  let idle = 0;
  for (const c of cpus()) {
    total += c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    idle += c.times.idle;
  }
  return { total, idle };
}

/** Samples the machine and sends each sample. */
export class UsageSampler {
  private timer: NodeJS.Timeout | undefined;
  private last = cpuTimes();
  private gpuTool: boolean;
  private busy = false;

  constructor(
    private readonly send: (m: NodeUsageMessage) => void,
    /** Whether the node has GPUs (only then is `nvidia-smi` run). */
    hasGpus: boolean,
    private readonly everyMs = USAGE_SAMPLE_MS,
  ) {
    this.gpuTool = hasGpus;
  }

  /** Starts sampling; the first sample comes after one interval (the CPU fraction needs two readings). */
  start(): void {
    this.timer = setInterval(() => void this.sample(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = cpuTimes();
      const dt = now.total - this.last.total;
      const cpu = dt > 0 ? Math.min(1, Math.max(0, 1 - (now.idle - this.last.idle) / dt)) : 0;
      this.last = now;
      const gpus = this.gpuTool ? await this.readGpus() : undefined;
      const memTotalBytes = totalmem();
      this.send({
        type: 'usage',
        t: Date.now(),
        cpu: Math.round(cpu * 10_000) / 10_000,
        memUsedBytes: memTotalBytes - freemem(),
        memTotalBytes,
        ...(gpus && gpus.length > 0 ? { gpus } : {}),
      });
    } finally {
      this.busy = false;
    }
  }

  private readGpus(): Promise<GpuUsage[] | undefined> {
    return new Promise((resolve) => {
      execFile('nvidia-smi', [...GPU_QUERY_ARGS], { encoding: 'utf8', timeout: 5000 }, (err, stdout) => {
        if (err) {
          this.gpuTool = false;
          return resolve(undefined);
        }
        resolve(parseGpuUsage(stdout));
      });
    });
  }
}
