/** Turns call arguments into ArgSpecs: top-level refs are resolved by the head, the rest serialized. */
import { isObjectRef } from '../core/object-ref.ts';
import { MAX_VALUE_BYTES, serializeValue, ValueTooLargeError } from '../core/serialization.ts';
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
  let bytes = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const spec = isObjectRef(a)
      ? { ref: a.id }
      : serializeValue(a, `argument ${i} of ${name}`, nestedRefs, { secrets });
    if ('data' in spec) bytes += spec.data.byteLength;
    out[i] = spec;
  }
  // They travel in one message; values passed as refs (put()) are fetched apart when they must be.
  if (bytes > MAX_VALUE_BYTES) throw new ValueTooLargeError(`the arguments of ${name} together`, bytes);
  return out;
}
