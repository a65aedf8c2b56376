/** Turns call arguments into ArgSpecs: top-level refs are resolved by the head, the rest serialized. */
import { isObjectRef } from '../core/object-ref.ts';
import { serializeValue } from '../core/serialization.ts';
import type { ArgSpec } from '../protocol/messages.ts';

/**
 * Encodes `args` for a call of `name`; `nestedRefs` collects refs found inside values, and
 * `secrets` the names of the `secret()` references (without it, as for actors, they are refused).
 */
export function encodeArgs(
  args: readonly unknown[],
  name: string,
  nestedRefs: string[],
  secrets?: string[],
): ArgSpec[] {
  const out: ArgSpec[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    out[i] = isObjectRef(a) ? { ref: a.id } : serializeValue(a, `argument ${i} of ${name}`, nestedRefs, { secrets });
  }
  return out;
}
