/** `remote(fn)`: a function that runs as a task on some node and returns an ObjectRef. */
import { newId } from '../core/ids.ts';
import { ObjectRef } from '../core/object-ref.ts';
import type { SecretRef } from '../core/secret-ref.ts';
import { normalizeTaskOptions, type TaskOptions } from '../core/options.ts';
import { checkName } from '../core/names.ts';
import type { ShippedCode } from '../core/function-source.ts';
import type { NormalizedTaskOptions, TaskSubmission } from '../protocol/messages.ts';
import { encodeArgs } from './arguments.ts';
import { currentRuntime } from './runtime.ts';
import { shipWorkingDir, workingDirKind } from './working-dir.ts';

/** An argument may be given as its value or as a ref to it; a string argument also as `secret(name)` (the task gets the value). */
export type RemoteArgs<A extends unknown[]> = {
  [K in keyof A]: A[K] | ObjectRef<A[K]> | (A[K] extends string ? SecretRef : never);
};

/** `runtimeEnv.container` given to a function task, an actor or a circuit. */
export function containerOnlyForCommands(where: string): TypeError {
  return new TypeError(
    `${where}: option runtimeEnv.container applies to command tasks only (command({ runtimeEnv: { container: { image } } })); function tasks and actors run in their worker's Node process`,
  );
}

/** A function turned into a task. */
export class RemoteFunction<A extends unknown[] = unknown[], R = unknown> {
  /** @internal */
  readonly normalized: NormalizedTaskOptions;

  /** @internal */
  constructor(
    readonly code: ShippedCode,
    private readonly given: TaskOptions,
    /** What placement rules match on: plain functions, or the command/circuit task kinds. */
    private readonly variant: 'function' | 'command' | 'circuit' = 'function',
  ) {
    this.normalized = normalizeTaskOptions(given, this.where);
    if (variant !== 'command' && this.normalized.runtimeEnv?.container) throw containerOnlyForCommands(this.where);
    workingDirKind(this.where, this.normalized.runtimeEnv);
    // Without a name option the function's own name is the task's: it must be a valid name too.
    if (this.normalized.name === undefined) checkName("remote(): the function's name (or give option name)", this.name);
  }

  private get where(): string {
    return `remote(${this.code.name || 'anonymous function'})`;
  }

  /** The task's name: `options.name`, else the function's name. */
  get name(): string {
    return this.normalized.name ?? (this.code.name || 'anonymous');
  }

  /** Submits a call; returns at once with a ref to the result. */
  remote(...args: RemoteArgs<A>): ObjectRef<Awaited<R>> {
    const rt = currentRuntime();
    const taskId = newId();
    const nestedRefs: string[] = [];
    const secrets: string[] = [];
    const encoded = encodeArgs(args, this.name, nestedRefs, secrets);
    const workdir = shipWorkingDir(rt, this.normalized.runtimeEnv, this.where);
    if (workdir) nestedRefs.push(workdir.objectId);
    const first = !rt.sentCode.has(this.code.hash);
    if (first) rt.sentCode.add(this.code.hash);
    const task: TaskSubmission = {
      taskId,
      name: this.name,
      kind: 'task',
      variant: this.variant === 'function' ? undefined : this.variant,
      codeHash: this.code.hash,
      code: first ? this.code : undefined,
      args: encoded,
      nestedRefs: nestedRefs.length > 0 ? nestedRefs : undefined,
      secrets: secrets.length > 0 ? [...new Set(secrets)] : undefined,
      options: this.normalized,
      workdir,
    };
    rt.post({ op: 'submit', task });
    return new ObjectRef(taskId, true);
  }

  /** A copy with these options merged over the current ones. */
  options(o: TaskOptions): RemoteFunction<A, R> {
    return new RemoteFunction<A, R>(this.code, { ...this.given, ...o }, this.variant);
  }
}
