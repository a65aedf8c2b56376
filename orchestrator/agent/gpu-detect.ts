/** Reads the node's GPUs from `nvidia-smi` (count, model, memory); none when it is absent. */
import { execFileSync } from 'node:child_process';

/** GPUs found on this node. */
export interface GpuInfo {
  readonly count: number;
  /** Short model name for the `accelerator` label, e.g. `A100`, `H100`. */
  readonly model?: string;
  readonly memoryMb?: number;
}

/** Shortens `NVIDIA A100-SXM4-80GB` to `A100` (the label users write in `accelerator`). */
export function acceleratorName(full: string): string {
  const words = full
    .replace(/^NVIDIA\s+/i, '')
    .replace(/^(GeForce|Tesla|Quadro)\s+/i, '')
    .split(/[\s-]+/);
  return words[0] === 'RTX' && words[1] ? `RTX${words[1]}` : (words[0] ?? full);
}

/** Runs `nvidia-smi --query-gpu=name,memory.total`; a missing or failing tool means no GPUs. */
export function detectGpus(): GpuInfo {
  let out: string;
  try {
    out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return { count: 0 };
  }
  const rows = out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split(',').map((x) => x.trim()));
  if (rows.length === 0) return { count: 0 };
  const [name, mem] = rows[0]!;
  return { count: rows.length, model: acceleratorName(name ?? ''), memoryMb: Number(mem) || undefined };
}
