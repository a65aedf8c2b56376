/** `command()`: programs (Python, CUDA, shell) run as tasks wherever a function task can run. */
import type { ObjectRef } from '../core/object-ref.ts';
import { shipCode } from '../core/function-source.ts';
import { containerSelector } from '../core/node-labels.ts';
import type { TaskOptions } from '../core/options.ts';
import { RemoteFunction } from './remote-function.ts';
import { runCommand } from './command-runner.ts';
import type { CommandCall, CommandResult, CommandSpec, GangOptions, GangResult } from './command-types.ts';
import { gangPlan, submitGang, takeGangOptions } from './command-gang.ts';

export type { CommandCall, CommandResult, CommandSpec } from './command-types.ts';
export type { GangResult } from './command-types.ts';

/**
 * Options of `command()`: TaskOptions plus what to collect and where to run. With `nodes: N`
 * (N >= 2) the command runs as a gang, one rank per node (api/command-gang.ts).
 */
export interface CommandOptions extends TaskOptions, GangOptions {
  /** Output paths or globs (`*`, `**`, `?`) collected from the working directory after the run. */
  outputs?: string[];
  /** Container image, for job-style container backends (SageMaker); on other backends use `runtimeEnv.container`. */
  image?: string;
}

const RUNNER = shipCode(runCommand);

/** A command task: `.remote({ argv, inputs?, env? })` returns a ref to its CommandResult. */
export class CommandFunction {
  private readonly fn: RemoteFunction<[CommandCall, CommandSpec], CommandResult>;
  private readonly spec: CommandSpec;
  private readonly gang: GangOptions;

  /** @internal */
  constructor(private readonly given: CommandOptions) {
    const { gang, rest } = takeGangOptions(given);
    this.gang = gang;
    const { outputs = [], image, ...task } = rest;
    if (!Array.isArray(outputs) || outputs.some((o) => typeof o !== 'string' || o === '')) {
      throw new TypeError(
        `command(): option outputs must be a list of relative paths or globs (got ${JSON.stringify(outputs)})`,
      );
    }
    if (image !== undefined && (typeof image !== 'string' || image === ''))
      throw new TypeError('command(): option image must be a container image name');
    const container = task.runtimeEnv?.container;
    this.spec = { outputs, ...(image === undefined ? {} : { image }) };
    if (container)
      this.spec.container = {
        image: container.image,
        ...(container.runtime ? { runtime: container.runtime } : {}),
        ...(container.options ? { options: [...container.options] } : {}),
      };
    const envNames = Object.keys(task.runtimeEnv?.env ?? {});
    if (container && envNames.length > 0) this.spec.containerEnvNames = envNames;
    // Placed only where the runtime is (a gang's ranks go to its placement group's nodes instead).
    const where =
      container && gang.nodes === undefined
        ? { labelSelector: { ...containerSelector(container.runtime), ...task.labelSelector } }
        : {};
    this.fn = new RemoteFunction<[CommandCall, CommandSpec], CommandResult>(
      RUNNER,
      { name: 'command', ...task, ...where },
      'command',
    );
  }

  /**
   * Runs the command; non-zero exit fails the ref with CommandFailedError. A gang's ref is rank
   * 0's result (GangResult), or the failing rank's CommandFailedError (with `rank` and `nodeId`).
   */
  remote(call: CommandCall): ObjectRef<GangResult> {
    if (typeof call !== 'object' || call === null || !Array.isArray(call.argv) || call.argv.length === 0) {
      throw new TypeError(
        'command().remote(call): call must be { argv: string[], inputs?, env? } with a non-empty argv',
      );
    }
    if (this.gang.nodes !== undefined) {
      const { outputs: _o, image: _i, ...task } = takeGangOptions(this.given).rest;
      const name = this.given.name ?? basename(call.argv[0]!);
      return submitGang(call, gangPlan(name, this.gang, task, this.spec));
    }
    const named = this.given.name ? this.fn : this.fn.options({ name: basename(call.argv[0]!) });
    return named.remote(call, this.spec);
  }

  /** A copy with these options merged over the current ones. */
  options(o: CommandOptions): CommandFunction {
    return new CommandFunction({ ...this.given, ...o });
  }
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1) || p;
}

/** Makes a command task: `.remote({ argv, inputs?, env? })` runs a program in a fresh working directory. */
export function command(options: CommandOptions = {}): CommandFunction {
  return new CommandFunction(options);
}
