/**
 * Masks a task's secret values in what it writes and in its error, as CI systems mask
 * registered secrets in job logs. Best effort: a value split across two writes of the program
 * is not recognised, and values shorter than {@link MIN_MASKED_CHARS} are left alone (masking
 * every "1" or "on" would garble the output and reveal more than it hides).
 */
import type { ErrorInfo } from '../core/errors.ts';

/** What a masked value is replaced by. */
export const MASK = '***';

/** Shorter values are not masked. */
export const MIN_MASKED_CHARS = 4;

/** Replaces every occurrence of a task's secret values in a text. */
export type SecretMask = (text: string) => string;

/** The mask for these values, or undefined when none is long enough to mask. */
export function secretMask(values: Iterable<string>): SecretMask | undefined {
  // Longest first, so a value that contains another is masked whole.
  const masked = [...new Set(values)].filter((v) => v.length >= MIN_MASKED_CHARS).sort((a, b) => b.length - a.length);
  if (masked.length === 0) return undefined;
  return (text) => masked.reduce((t, v) => (t.includes(v) ? t.split(v).join(MASK) : t), text);
}

/** An error's message, stack and text fields (such as a command's stderr tail) with the values masked. */
export function maskErrorInfo(info: ErrorInfo, mask: SecretMask): ErrorInfo {
  const fields = info.fields && Object.fromEntries(Object.entries(info.fields).map(([k, v]) => [k, maskDeep(v, mask)]));
  return {
    ...info,
    message: mask(info.message),
    stack: info.stack === undefined ? undefined : mask(info.stack),
    ...(fields ? { fields } : {}),
  };
}

function maskDeep(v: unknown, mask: SecretMask): unknown {
  if (typeof v === 'string') return mask(v);
  if (Array.isArray(v)) return v.map((x) => maskDeep(x, mask));
  return v;
}
