/** The shapes of a command task's call and result (see command.ts). */
import type { ObjectRef } from '../core/object-ref.ts';
import type { ContainerEnv } from '../core/runtime-env.ts';
import type { SecretRef } from '../core/secret-ref.ts';
import type { TaskOptions } from '../core/options.ts';

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

/** Options of `command()` that make it a gang. */
export interface GangOptions {
  /** Distinct nodes to run on, one rank per node (default 1: an ordinary command task). */
  nodes?: number;
  /** `'all'`: collect `outputs` from every rank into `result.ranks` (default: rank 0's only). */
  ranks?: 'all';
  /** MASTER_PORT of every rank (default: a port that was free on rank 0's node when the gang started). */
  masterPort?: number;
  /** How long to wait for N free nodes before failing with GangPlacementError (default 600 000 ms). */
  placementTimeoutMs?: number;
}

/** What the coordinator is told; plain data, sent as its argument. */
export interface GangPlan {
  readonly name: string;
  readonly size: number;
  /** One bundle per rank, in user units: the command's resources. */
  readonly bundle: Readonly<Record<string, number>>;
  readonly backend: string | undefined;
  /** Task options of every rank (resources, runtimeEnv, timeoutMs), without placement. */
  readonly rankOptions: TaskOptions;
  readonly spec: CommandSpec;
  readonly allRanks: boolean;
  readonly masterPort: number | undefined;
  readonly placementTimeoutMs: number;
  /** Each rank's environment, except MASTER_ADDR and MASTER_PORT (known once rank 0's node is). */
  readonly rankEnvs: readonly Readonly<Record<string, string>>[];
}

/** What a gang's ref resolves to: rank 0's result, and with `ranks: 'all'` every rank's. */
export interface GangResult extends CommandResult {
  /** With `ranks: 'all'`: `ranks[i]` is rank i's result (its `files` are the outputs collected there). */
  ranks?: CommandResult[];
}
