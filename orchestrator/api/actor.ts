/** `remote(Class)`: actors, their handles, `getActor` and `kill`. */
import { newId } from '../core/ids.ts';
import { ObjectRef } from '../core/object-ref.ts';
import { normalizeActorOptions, type ActorOptions } from '../core/options.ts';
import { ACTOR_HANDLE, type ActorDescriptor } from '../core/serialization.ts';
import type { ShippedCode } from '../core/function-source.ts';
import type { NormalizedActorOptions, NormalizedTaskOptions, TaskSubmission } from '../protocol/messages.ts';
import { encodeArgs } from './arguments.ts';
import { containerOnlyForCommands, type RemoteArgs } from './remote-function.ts';
import { currentRuntime } from './runtime.ts';
import { shipWorkingDir, workingDirKind } from './working-dir.ts';

/** Any class, abstract or not: what `remote()` hands over. */
type AnyClass = abstract new (...args: never[]) => unknown;

type Method<F> = F extends (...args: infer A) => infer R
  ? { remote(...args: RemoteArgs<A>): ObjectRef<Awaited<R>> }
  : never;

/** A handle to a live actor: `handle.method.remote(...)` calls a method. */
export type ActorHandle<T = Record<string, unknown>> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: Method<T[K]>;
} & { readonly actorId: string };

/** Builds a handle from its descriptor (also used to revive handles passed as arguments). */
export function actorHandle<T>(desc: ActorDescriptor): ActorHandle<T> {
  const handle: Record<string | symbol, unknown> = { actorId: desc.actorId, [ACTOR_HANDLE]: desc };
  for (const method of desc.methods) {
    // Defined, not assigned: a method named `__proto__` is a method, not the handle's prototype.
    Object.defineProperty(handle, method, {
      value: { remote: (...args: unknown[]) => callMethod(desc, method, args) },
      enumerable: true,
    });
  }
  Object.defineProperty(handle, Symbol.for('nodejs.util.inspect.custom'), {
    value: () => `ActorHandle(${desc.className}, ${desc.actorId})`,
  });
  return Object.freeze(handle) as ActorHandle<T>;
}

const CALL_OPTIONS: NormalizedTaskOptions = {
  resources: {},
  strategy: 'DEFAULT',
  maxRetries: 0,
  retryExceptions: false,
};

function callMethod(desc: ActorDescriptor, method: string, args: unknown[]): ObjectRef {
  const rt = currentRuntime();
  const taskId = newId();
  const nestedRefs: string[] = [];
  const name = `${desc.className}.${method}`;
  const task: TaskSubmission = {
    taskId,
    name,
    kind: 'actor-call',
    actorId: desc.actorId,
    method,
    args: encodeArgs(args, name, nestedRefs),
    nestedRefs: nestedRefs.length > 0 ? nestedRefs : undefined,
    options: CALL_OPTIONS,
  };
  rt.post({ op: 'submit', task });
  return new ObjectRef(taskId, true);
}

/** Names of the callable methods of a class (own and inherited, not the constructor). */
function methodsOf(cls: AnyClass): { methods: string[]; async: boolean } {
  const methods = new Set<string>();
  let isAsync = false;
  for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, key);
      if (key === 'constructor' || !d || typeof d.value !== 'function') continue;
      methods.add(key);
      if (d.value.constructor?.name === 'AsyncFunction' || d.value.constructor?.name === 'AsyncGeneratorFunction')
        isAsync = true;
    }
  }
  return { methods: [...methods], async: isAsync };
}

/** A class turned into an actor class. */
export class ActorClass<C extends new (...args: never[]) => unknown = new (...args: never[]) => unknown> {
  private readonly task: NormalizedTaskOptions;
  private readonly actor: NormalizedActorOptions;
  private readonly methods: string[];
  private readonly asyncMethods: boolean;

  /** @internal */
  constructor(
    readonly code: ShippedCode,
    cls: AnyClass,
    private readonly given: ActorOptions,
  ) {
    const { methods, async } = methodsOf(cls);
    this.methods = methods;
    this.asyncMethods = async;
    const where = `remote(${code.name || 'anonymous class'})`;
    const n = normalizeActorOptions(given, where, async);
    if (n.task.runtimeEnv?.container) throw containerOnlyForCommands(where);
    this.task = n.task;
    this.actor = n.actor;
    workingDirKind(`remote(${code.name || 'anonymous class'})`, this.task.runtimeEnv);
    this.cls = cls;
  }

  private readonly cls: AnyClass;

  /** Creates the actor; returns its handle at once (calls queue until it is up). */
  remote(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>> {
    const rt = currentRuntime();
    const actorId = newId();
    const desc: ActorDescriptor = {
      actorId,
      className: this.code.name || 'Actor',
      methods: this.methods,
      asyncMethods: this.asyncMethods,
    };
    const nestedRefs: string[] = [];
    const workdir = shipWorkingDir(rt, this.task.runtimeEnv, `remote(${desc.className})`);
    if (workdir) nestedRefs.push(workdir.objectId);
    const first = !rt.sentCode.has(this.code.hash);
    if (first) rt.sentCode.add(this.code.hash);
    const name = `${desc.className}.constructor`;
    const task: TaskSubmission = {
      taskId: newId(),
      name,
      kind: 'actor-create',
      actorId,
      codeHash: this.code.hash,
      code: first ? this.code : undefined,
      args: encodeArgs(args, name, nestedRefs),
      nestedRefs: nestedRefs.length > 0 ? nestedRefs : undefined,
      options: this.task,
      actorOptions: this.actor,
      actor: desc,
      workdir,
    };
    rt.post({ op: 'submit', task });
    return actorHandle<InstanceType<C>>(desc);
  }

  /** A copy with these options merged over the current ones. */
  options(o: ActorOptions): ActorClass<C> {
    return new ActorClass<C>(this.code, this.cls, { ...this.given, ...o });
  }
}

/** Looks up a live named actor (in the driver's namespace unless one is given). */
export async function getActor<T = Record<string, unknown>>(
  name: string,
  opts: { namespace?: string } = {},
): Promise<ActorHandle<T>> {
  if (typeof name !== 'string' || name === '') throw new TypeError('getActor(name): name must be a non-empty string');
  const desc = await currentRuntime().call({ op: 'get-actor', name, namespace: opts.namespace });
  return actorHandle<T>(desc);
}

/** Kills an actor. With `noRestart: false` it is restarted if restarts remain (and that counts as one). */
export async function kill(handle: unknown, opts: { noRestart?: boolean } = {}): Promise<void> {
  const desc =
    typeof handle === 'object' && handle !== null
      ? (handle as Record<symbol, ActorDescriptor | undefined>)[ACTOR_HANDLE]
      : undefined;
  if (!desc)
    throw new TypeError(
      'kill(handle): expected an actor handle (the value returned by ActorClass.remote() or getActor())',
    );
  await currentRuntime().call({ op: 'kill-actor', actorId: desc.actorId, noRestart: opts.noRestart ?? true });
}
