/**
 * `secret(name)`: a task argument that stands for a secret in the OS keychain. Only the name
 * travels with the submission and is recorded; the head reads the value when it dispatches the
 * task and sends it with the run alone, and the worker puts it where the reference was.
 */
import { nameProblem } from './names.ts';

/** Secret names: what `orrery secrets set <name>` stores and `secret(name)` refers to. */
export const SECRET_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** The key of the marker a SecretRef becomes on the wire and in sessions. */
export const SECRET_KEY = '__orrery_secret__';

/** Brand that marks SecretRef instances across copies of this module. */
export const SECRET_REF = Symbol.for('orrery.SecretRef');

/** A reference to keychain secret `name` (it never holds the value). */
export class SecretRef {
  readonly [SECRET_REF] = true;

  /** @internal use `secret(name)` */
  constructor(readonly name: string) {}

  /** Readable form for previews and logs: the name, never a value. */
  toString(): string {
    return `secret('${this.name}')`;
  }

  /** How a session stores it: the marker a resumed head turns back into a reference. */
  toJSON(): Record<string, string> {
    return { [SECRET_KEY]: this.name };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * Refers to secret `name` of the OS keychain (stored with `orrery secrets set <name>`), for a
 * task argument: `command().remote({ argv, env: { WANDB_API_KEY: secret('wandb') } })` or
 * `train.remote(secret('hf-token'))`. The task sees the value; sessions, previews, API replies
 * and logs see `secret('name')`.
 */
export function secret(name: string): SecretRef {
  if (typeof name !== 'string' || !SECRET_NAME.test(name) || nameProblem(name) !== undefined) {
    throw new TypeError(
      `secret(name): name must be 1-128 letters, digits, '.', '_' or '-' other than __proto__, constructor and prototype, as stored with orrery secrets set <name> (got ${JSON.stringify(name)})`,
    );
  }
  return new SecretRef(name);
}

/** True for a SecretRef made by any copy of this module. */
export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[SECRET_REF] === true;
}

/** Turns the stored markers inside a JSON value back into references (for a resumed head). */
export function reviveSecretMarkers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reviveSecretMarkers);
  if (typeof v !== 'object' || v === null) return v;
  const keys = Object.keys(v);
  const name = (v as Record<string, unknown>)[SECRET_KEY];
  if (keys.length === 1 && typeof name === 'string') return secret(name);
  const out: Record<string, unknown> = {};
  for (const k of keys)
    Object.defineProperty(out, k, {
      value: reviveSecretMarkers((v as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}
