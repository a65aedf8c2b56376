/** `remote()`: turns a function into a task and a class into an actor class. */
import { shipCode } from '../core/function-source.ts';
import type { ActorOptions, TaskOptions } from '../core/options.ts';
import { ActorClass } from './actor.ts';
import { RemoteFunction } from './remote-function.ts';

type AnyClass = abstract new (...args: never[]) => unknown;
type AnyFn = (...args: never[]) => unknown;

/** Turns a class into an actor class. */
export function remote<C extends new (...args: never[]) => unknown>(cls: C): ActorClass<C>;
export function remote<C extends new (...args: never[]) => unknown>(options: ActorOptions, cls: C): ActorClass<C>;
/** Turns a function into a remote function. */
export function remote<F extends AnyFn>(fn: F): RemoteFunction<Parameters<F>, ReturnType<F>>;
export function remote<F extends AnyFn>(options: TaskOptions, fn: F): RemoteFunction<Parameters<F>, ReturnType<F>>;
export function remote(a: unknown, b?: unknown): unknown {
  const target = typeof a === 'function' ? a : b;
  const options = typeof a === 'function' ? {} : a;
  if (typeof target !== 'function')
    throw new TypeError('remote(): expected a function or a class, as remote(fn) or remote(options, fn)');
  if (typeof options !== 'object' || options === null)
    throw new TypeError('remote(options, fn): options must be an object');
  const code = shipCode(target as AnyFn | AnyClass);
  if (code.kind === 'class') return new ActorClass(code, target as AnyClass, options as ActorOptions);
  return new RemoteFunction(code, options as TaskOptions);
}
