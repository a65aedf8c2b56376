/**
 * How a head service ended, recorded next to head.json (`head-exit.json`, 0600) before its
 * process exits, and its log (`head.log`, 0600): `orrery stop` waits for the process to go and
 * then reads the record. A clean stop records `ok`; a stop that failed, or an uncaught error,
 * records the reason; no record for the process means it died without saying how (SIGKILL,
 * out of memory, a crash in native code).
 */
import { appendFileSync, chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { orreryHome } from '../core/runtime-dir.ts';

/** What a head service recorded about how it ended. */
export interface HeadExit {
  readonly pid: number;
  /** True when everything stopped cleanly. */
  readonly ok: boolean;
  /** What went wrong (one line), when not ok. */
  readonly reason?: string;
  /** The head's log file. */
  readonly log: string;
  /** ISO time it was recorded. */
  readonly at: string;
}

/** Path of the exit record. */
export function headExitPath(): string {
  return join(orreryHome(), 'head-exit.json');
}

/** Path of the head service's log. */
export function headLogPath(): string {
  return join(orreryHome(), 'head.log');
}

/** Writes the exit record atomically (0600, in the 0700 home). */
export function writeHeadExit(exit: HeadExit, path = headExitPath()): void {
  mkdirSync(orreryHome(), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(exit, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The exit record of process `pid`, or undefined when it left none (or the file is another process's or unreadable). */
export function readHeadExit(pid: number, path = headExitPath()): HeadExit | undefined {
  try {
    const exit = JSON.parse(readFileSync(path, 'utf8')) as Partial<HeadExit>;
    if (exit.pid !== pid || typeof exit.ok !== 'boolean' || typeof exit.log !== 'string') return undefined;
    return exit as HeadExit;
  } catch {
    return undefined;
  }
}

/** Forgets the record of an earlier head (a new one starts). */
export function clearHeadExit(): void {
  rmSync(headExitPath(), { force: true });
}

/**
 * The head service's log file: every line the service logs is appended (the previous run's
 * log is kept as `head.log.1`). Appends are synchronous so the last lines before a crash are
 * on disk; a log that cannot be written never stops the head.
 */
export class HeadLog {
  private broken = false;

  constructor(readonly path = headLogPath()) {
    try {
      mkdirSync(orreryHome(), { recursive: true, mode: 0o700 });
      rmSync(`${path}.1`, { force: true });
      renameSync(path, `${path}.1`);
    } catch {
      // No earlier log.
    }
  }

  /** Appends one line with its time. */
  append(line: string): void {
    if (this.broken) return;
    try {
      appendFileSync(this.path, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
    } catch {
      this.broken = true;
    }
  }
}
