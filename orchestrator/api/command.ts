/** `command()`: programs (Python, CUDA, shell) run as tasks wherever a function task can run. */
import type { ObjectRef } from '../core/object-ref.ts';
import { shipCode } from '../core/function-source.ts';
import type { TaskOptions } from '../core/options.ts';
import { RemoteFunction } from './remote-function.ts';
import { runCommand } from './command-runner.ts';
import type { CommandCall, CommandResult, CommandSpec } from './command-types.ts';

export type { CommandCall, CommandResult, CommandSpec } from './command-types.ts';

/** Options of `command()`: TaskOptions plus what to collect and where to run. */
export interface CommandOptions extends TaskOptions {
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

  /** @internal */
  constructor(private readonly given: CommandOptions) {
    const { outputs = [], image, ...task } = given;
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
    this.fn = new RemoteFunction<[CommandCall, CommandSpec], CommandResult>(
      RUNNER,
      { name: 'command', ...task },
      'command',
    );
  }

  /** Runs the command; non-zero exit fails the ref with CommandFailedError. */
  remote(call: CommandCall): ObjectRef<CommandResult> {
    if (typeof call !== 'object' || call === null || !Array.isArray(call.argv) || call.argv.length === 0) {
      throw new TypeError(
        'command().remote(call): call must be { argv: string[], inputs?, env? } with a non-empty argv',
      );
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
