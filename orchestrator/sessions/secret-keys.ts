/**
 * Keeps secret values out of session files. Configs name secrets (`passphraseSecret`,
 * `apiKeySecret`) and never hold them; as a second line of defence any key that looks like it
 * holds a secret value is stripped before a config is recorded.
 */
import { isSecretKey } from '../core/secret-values.ts';

/** True when a config key would hold a secret value (keys ending in `Secret` hold a secret's name). */
export function isSecretValueKey(key: string): boolean {
  return isSecretKey(key) && !key.endsWith('Secret');
}

/** A copy of a JSON-like value without secret-looking keys, and the dotted paths that were removed. */
export interface RedactedValue {
  readonly value: unknown;
  readonly stripped: readonly string[];
}

/** Deep-copies `value`, dropping keys for which `isSecretValueKey` holds, at any depth. */
export function stripSecretKeys(value: unknown, path = ''): RedactedValue {
  const stripped: string[] = [];
  const walk = (v: unknown, at: string, seen: Set<object>): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}[${i}]`, seen));
      const kept: [string, unknown][] = [];
      for (const [k, x] of Object.entries(v)) {
        const p = at ? `${at}.${k}` : k;
        if (isSecretValueKey(k)) stripped.push(p);
        else kept.push([k, walk(x, p, seen)]);
      }
      // fromEntries defines own keys: a `__proto__` key in a config stays a key of the copy.
      return Object.fromEntries(kept);
    } finally {
      seen.delete(v);
    }
  };
  return { value: walk(value, path, new Set()), stripped };
}
