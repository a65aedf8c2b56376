/**
 * What happens to a task whose worker the node's memory guard killed: a message that names the
 * task, its use and its limit, and a retry after a backoff (the node may be short of memory).
 */
import type { TaskManager } from './task-manager.ts';
import type { TaskRecord } from './task-record.ts';

/** Backoff before the retry of a task killed for memory: 0.5 s, 1 s, 2 s, ... up to 10 s. */
export function memoryRetryDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 10_000);
}

/** Bytes as `2.1 GiB` or `300 MiB`. */
export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${trim(b / 2 ** 30)} GiB`;
  return `${trim(b / 2 ** 20)} MiB`;
}

function trim(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/** The message of a memory kill, e.g. "task train used 2.1 GiB, over its memory limit of 2 GiB; it was killed and will be retried (attempt 2 of 4)". */
export function memoryKillMessage(t: TaskRecord, usedBytes: number, limitBytes: number): string {
  const base = `task ${t.spec.name} used ${formatBytes(usedBytes)}, over its memory limit of ${formatBytes(limitBytes)}; it was killed`;
  if (t.spec.kind !== 'task' || t.retriesLeft <= 0 || t.cancelled) return base;
  const total = t.spec.options.maxRetries + 1;
  return `${base} and will be retried (attempt ${t.attempt + 2} of ${Number.isFinite(total) ? total : 'unlimited'})`;
}

/** Reports a memory kill and retries the task after a backoff (or fails it when retries are out). */
export function memoryKilled(
  tasks: TaskManager,
  t: TaskRecord,
  memory: { usedBytes: number; limitBytes: number },
  log: (line: string) => void,
): void {
  const msg = memoryKillMessage(t, memory.usedBytes, memory.limitBytes);
  log(`orrery: ${msg}`);
  tasks.recordInfo(t.spec.taskId, { memoryKill: msg });
  tasks.workerDied(t, msg, memoryRetryDelayMs(t.attempt));
}
