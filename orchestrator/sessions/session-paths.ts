/** Where a session's files live inside the sessions directory, and which names are allowed. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { nameProblem } from '../core/names.ts';
import { orreryHome } from '../core/runtime-dir.ts';

/** Session names: letters, digits, `.`, `_`, `-`; 1 to 64 characters. */
export const SESSION_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The sessions directory used when none is given: `~/.orrery/sessions`. */
export function defaultSessionsDir(): string {
  return join(orreryHome(), 'sessions');
}

/** Throws a TypeError unless `name` is a valid session name (it becomes a file name and a key). */
export function validateSessionName(name: unknown): asserts name is string {
  if (
    typeof name !== 'string' ||
    !SESSION_NAME.test(name) ||
    name === '.' ||
    name === '..' ||
    nameProblem(name) !== undefined
  ) {
    throw new TypeError(
      `session name ${JSON.stringify(name)} is invalid: use 1 to 64 letters, digits, ".", "_" or "-", other than __proto__, constructor and prototype (for example "sweep-2024.1")`,
    );
  }
}

/** The files that make up one session. */
export interface SessionPaths {
  readonly name: string;
  readonly db: string;
  readonly wal: string;
  readonly shm: string;
  /** Directory of results too large to keep inline. */
  readonly filesDir: string;
}

/** Paths of session `name` in `dir`; validates the name. */
export function sessionPaths(dir: string, name: string): SessionPaths {
  validateSessionName(name);
  const db = join(dir, `${name}.db`);
  return { name, db, wal: `${db}-wal`, shm: `${db}-shm`, filesDir: join(dir, `${name}.files`) };
}

const SAFE_FILE = /^[A-Za-z0-9._-]{1,128}$/;

/** File name of a large result: the task id when it is file-safe, else a hash of it. */
export function resultFileName(taskId: string): string {
  return SAFE_FILE.test(taskId) && !taskId.startsWith('.')
    ? taskId
    : `task-${createHash('sha256').update(taskId).digest('hex').slice(0, 32)}`;
}
