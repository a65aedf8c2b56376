/**
 * What may be shown and stored of a task's submission: a preview of its arguments, the
 * arguments as data when they are small and plain (what a resumed head submits again from), and
 * its options. Secret values are replaced by REDACTED: every value of a command's `env` and of
 * `runtimeEnv.env` (names stay, values go), and whatever stands under a secret-looking key at
 * any depth (`apiKey`, `password`, ...). A `secret('name')` reference stays as it is: it holds no
 * value, and a resumed head reads it from the keychain again. Looking at arguments never takes a
 * reference to an object (nested refs are shown, not revived).
 */
import { isSecretRef, secret } from '../core/secret-ref.ts';
import { REDACTED, redactSecrets } from '../core/secret-values.ts';
import { deserializeValue, type Payload, type Reviver } from '../core/serialization.ts';
import type { TaskSubmission } from '../protocol/messages.ts';
import { ARGS_PREVIEW_CHARS, previewArgs } from '../sessions/index.ts';

/** The key of the marker a whole-argument ref becomes in a session's stored arguments. */
export const REF_KEY = '__orrery_ref__';

/** The stored form of a ref argument. */
function refMarker(id: string): Record<string, string> {
  return { [REF_KEY]: id };
}

/** The object id a stored argument refers to, when it is a ref's marker. */
export function refOfMarker(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const id = (v as Record<string, unknown>)[REF_KEY];
  return Object.keys(v).length === 1 && typeof id === 'string' ? id : undefined;
}

/** Arguments bigger than this are shown by size only (decoding them would cost the head). */
const DECODE_BYTES = 4096;

/** A task's arguments and options as they may be shown and stored. */
export interface TaskArgsView {
  /** `(1, 'a', { apiKey: '[redacted]' })`-style text, cut to the asked length. */
  readonly preview: string;
  /** The arguments when all are plain data (secret references included) or whole refs (as {@link REF_KEY} markers), else undefined. */
  readonly params?: unknown[];
  /** The task's options, with env values and secret-looking keys redacted. */
  readonly options: unknown;
  /** True when anything was redacted: the task cannot be rebuilt from what is stored. */
  readonly redacted: boolean;
}

/** Shows a nested ref or actor handle without reviving it. */
class Mention {
  constructor(private readonly text: string) {}
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.text;
  }
}

const SHOWN: Reviver = {
  ref: (id) => new Mention(`ObjectRef(${id})`),
  actor: (d) => new Mention(`ObjectRef(actor ${d.className} ${d.actorId})`),
  secret: (name) => secret(name),
};

/** The shown and stored form of `spec`'s arguments and options; the preview is cut to `maxChars`. */
export function describeTaskArgs(spec: TaskSubmission, maxChars = ARGS_PREVIEW_CHARS): TaskArgsView {
  const decoded = spec.args.map((a) => ('ref' in a ? new Mention(`ObjectRef(${a.ref})`) : decode(a)));
  const env = spec.variant === 'command' ? withoutEnvValues(decoded[0], 'env') : { value: decoded[0], redacted: false };
  const args = redactSecrets(decoded.length > 0 ? [env.value, ...decoded.slice(1)] : decoded, isSecretRef);
  const runtimeEnv = withoutEnvValues(spec.options.runtimeEnv, 'env');
  const options = redactSecrets(runtimeEnv.redacted ? { ...spec.options, runtimeEnv: runtimeEnv.value } : spec.options);
  // A ref given as a whole argument is stored as its marker: a resumed head passes the same object again.
  const isRef = (i: number) => 'ref' in spec.args[i]!;
  const plain = args.value.every((v, i) => isRef(i) || isPlain(v));
  return {
    preview: previewArgs(args.value, maxChars),
    params: plain
      ? args.value.map((v, i) => (isRef(i) ? refMarker((spec.args[i] as { ref: string }).ref) : v))
      : undefined,
    options: options.value,
    redacted: env.redacted || args.redacted || runtimeEnv.redacted || options.redacted,
  };
}

function decode(p: Payload): unknown {
  if (p.data.byteLength > DECODE_BYTES) return sized(p);
  try {
    return deserializeValue(p, SHOWN);
  } catch {
    return sized(p);
  }
}

function sized(p: Payload): Mention {
  return new Mention(`<${p.typed ?? 'value'} of ${p.data.byteLength} bytes>`);
}

/** `holder` with every value of its `key` object replaced by REDACTED (secret references kept). */
function withoutEnvValues(holder: unknown, key: string): { value: unknown; redacted: boolean } {
  const env = isRecord(holder) ? holder[key] : undefined;
  if (!isRecord(env)) return { value: holder, redacted: false };
  const entries = Object.entries(env);
  if (entries.every(([, v]) => isSecretRef(v))) return { value: holder, redacted: false };
  return {
    value: {
      ...(holder as object),
      [key]: Object.fromEntries(entries.map(([k, v]) => [k, isSecretRef(v) ? v : REDACTED])),
    },
    redacted: true,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Data a session can keep as JSON and a resumed head can submit again. */
function isPlain(v: unknown): boolean {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v) || isSecretRef(v)) return true;
  if (Array.isArray(v)) return v.every(isPlain);
  // An object member left undefined (a circuit call's unset `device`) is dropped by JSON, as by the callee.
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.values(v as object).every((x) => x === undefined || isPlain(x));
  return false;
}
