/** A short, human-readable preview of a task's arguments for listings and session comparison. */
import { inspect } from 'node:util';

/** At most this many characters are kept. */
export const ARGS_PREVIEW_CHARS = 200;

/** `(1, 'a', { x: 2 })`-style text of the arguments, cut to `max` characters with an ellipsis. */
export function previewArgs(args: readonly unknown[], max = ARGS_PREVIEW_CHARS): string {
  const text = args
    .map((a) => inspect(a, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 80, compact: true }))
    .join(', ');
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
