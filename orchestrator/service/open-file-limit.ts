/**
 * How many files this process may have open (the soft RLIMIT_NOFILE), which bounds how many
 * sockets the head can hold. Node has no getrlimit: Linux says it in /proc/self/limits; other
 * systems through `ulimit -n` in a shell, which inherits this process's limits.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Assumed when the limit cannot be read (macOS's default is 256, Linux's 1024). */
const UNKNOWN_LIMIT = 256;

/** The soft limit on open files; Infinity when unlimited. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) return parseLimit(m[1]!);
  } catch {
    // not Linux: ask a shell
  }
  if (process.platform === 'win32') return UNKNOWN_LIMIT;
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? parseLimit(r.stdout.trim()) : UNKNOWN_LIMIT;
}

function parseLimit(text: string): number {
  if (text === 'unlimited') return Infinity;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : UNKNOWN_LIMIT;
}
