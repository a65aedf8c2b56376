/** The shapes of a command task's call and result (see command.ts). */
import type { ObjectRef } from '../core/object-ref.ts';
import type { ContainerEnv } from '../core/runtime-env.ts';
import type { SecretRef } from '../core/secret-ref.ts';

/** One call of a command task. */
export interface CommandCall {
  argv: string[];
  /** Files written into the fresh working directory before the run (relative paths). */
  inputs?: Record<string, ObjectRef<Uint8Array | string> | Uint8Array | string>;
  /** Environment variables of the program; `secret(name)` passes a keychain secret (sessions keep only the names). */
  env?: Record<string, string | SecretRef>;
}

/** What a finished command returns. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  files: Record<string, Uint8Array>;
  durationMs: number;
}

/** What the command's options say about every call: the outputs to collect and the container image. */
export interface CommandSpec {
  outputs: string[];
  /** Container image (job-style container backends such as SageMaker; other backends ignore it). */
  image?: string;
  /** `runtimeEnv.container`: the program runs in this image on the worker's node (command-container.ts). */
  container?: ContainerEnv;
  /** The names of `runtimeEnv.env`, passed into the container with the call's own `env` names. */
  containerEnvNames?: string[];
  /** Set by a resumed head for a task whose remote job is in the session: follow that job, do not start another. */
  resumeJobId?: string;
}
