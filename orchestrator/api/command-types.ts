/** The shapes of a command task's call and result (API.md `command`). */
import type { ObjectRef } from '../core/object-ref.ts';

/** One call of a command task. */
export interface CommandCall {
  argv: string[];
  /** Files written into the fresh working directory before the run (relative paths). */
  inputs?: Record<string, ObjectRef<Uint8Array | string> | Uint8Array | string>;
  env?: Record<string, string>;
}

/** What a finished command returns. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  files: Record<string, Uint8Array>;
  durationMs: number;
}
