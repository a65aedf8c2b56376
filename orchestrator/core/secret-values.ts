/**
 * Which keys name secret values, and copies of values with those values replaced by a marker.
 * Sessions, previews, API replies and State API rows go through here, so a password passed as
 * `{ password }`, an `apiKey` nested in a Map or a backend label named `hfToken` is never
 * stored or shown. Keys are split into words (camelCase, snake_case, kebab-case, SCREAMING_CASE)
 * and judged by word, so `maxTokens`, `tokenizer`, `monkey` or `keyboard` stay visible.
 */

/** What a redacted value is replaced by. */
export const REDACTED = '[redacted]';

/** Word parts that only ever name secrets, even inside a longer word (`PGPASSWORD`, `APIKEY`). */
const SECRET_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'apikey',
  'privatekey',
  'privkey',
  'accesskey',
  'secretkey',
  'credential',
  'sessionid',
  'sessid',
];
/** Whole words that name secrets wherever they stand. */
const SECRET_WORDS = new Set([
  'secret',
  'secrets',
  'auth',
  'authorization',
  'cookie',
  'cookies',
  'creds',
  'jwt',
  'bearer',
  'dsn',
]);
/** Words before `key` that make it a secret key (`apiKey`, `private_key`), unlike `sortKey` or `primaryKey`. */
const KEY_KINDS = new Set([
  'api',
  'access',
  'private',
  'secret',
  'signing',
  'encryption',
  'master',
  'client',
  'ssh',
  'license',
  'auth',
  'session',
]);
/** Words before a final `token` that make it a vocabulary token of a language model (`eos_token`), not a credential. */
const MODEL_TOKENS = new Set(['pad', 'eos', 'bos', 'unk', 'sep', 'cls', 'mask', 'special', 'start', 'end']);
/** Words that name a secret when they end the key (`token`, `dbPass`), but not before another word (`token_type_ids`, `passThrough`). */
const SECRET_LAST_WORDS = new Set(['token', 'pass']);

/** The lowercase words of a key: `WANDB_API_KEY` and `wandbApiKey` are both `wandb api key`. */
function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when a key (an object key, a Map key, an env var or label name) names a secret value. */
export function isSecretKey(key: string): boolean {
  const words = wordsOf(key);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (SECRET_WORDS.has(w) || SECRET_PARTS.some((p) => w.includes(p))) return true;
    const prev = words[i - 1];
    if (w === 'key' && prev !== undefined && KEY_KINDS.has(prev)) return true;
    if (w === 'id' && prev === 'session') return true;
    if (
      i === words.length - 1 &&
      SECRET_LAST_WORDS.has(w) &&
      !(w === 'token' && prev !== undefined && MODEL_TOKENS.has(prev))
    )
      return true;
  }
  return false;
}

/** A value with its secrets replaced, and whether anything was. */
export interface Redacted<T = unknown> {
  readonly value: T;
  readonly redacted: boolean;
}

/**
 * Copies `value`, replacing what is stored under a secret-looking key with {@link REDACTED}, at
 * any depth of plain objects, arrays, Maps and Sets (other objects are kept as they are). What
 * `keep` accepts is left in place even under such a key: a reference to a secret, not its value.
 * Returns `value` itself when nothing was replaced.
 */
export function redactSecrets<T>(value: T, keep: (v: unknown) => boolean = () => false): Redacted<T> {
  let redacted = false;
  const seen = new Map<object, unknown>();
  const under = (key: unknown, v: unknown): unknown => {
    if (typeof key === 'string' && isSecretKey(key) && !keep(v)) {
      redacted = true;
      return REDACTED;
    }
    return walk(v);
  };
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return seen.get(v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const x of v) out.push(walk(x));
      return out.every((x, i) => x === v[i]) ? unchanged(v) : out;
    }
    if (v instanceof Map) {
      const out = new Map<unknown, unknown>();
      seen.set(v, out);
      let changed = false;
      for (const [k, x] of v) {
        const y = under(k, x);
        changed ||= y !== x;
        out.set(k, y);
      }
      return changed ? out : unchanged(v);
    }
    if (v instanceof Set) {
      const items = [...v].map(walk);
      return items.some((x, i) => x !== [...v][i]) ? new Set(items) : v;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
    seen.set(v, out);
    let changed = false;
    for (const [k, x] of Object.entries(v)) {
      const y = under(k, x);
      changed ||= y !== x;
      // defineProperty: a key named `__proto__` stays a key instead of replacing the prototype.
      Object.defineProperty(out, k, { value: y, enumerable: true, writable: true, configurable: true });
    }
    return changed ? out : unchanged(v);
  };
  /** An unchanged container is shared as it is (later references to it resolve to the original too). */
  const unchanged = (v: object): unknown => {
    seen.set(v, v);
    return v;
  };
  const out = walk(value) as T;
  return { value: redacted ? out : value, redacted };
}
