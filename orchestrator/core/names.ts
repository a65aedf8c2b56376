/**
 * Names users choose (tasks, actors and their namespaces, backends, placement groups, sessions,
 * secrets, label keys, custom resources) end up as keys: of the head's tables, of the JSON the
 * API and the dashboard build, of files and tables on screen. Three names would reach an
 * object's prototype instead of a key of its own (`__proto__`, `constructor`, `prototype`),
 * and control characters garble logs, terminals and tables; both are refused where a name
 * enters. Ordinary punctuation (`;`, quotes, `$`, spaces, `-`, `.`, `/`) stays legal: names
 * are quoted wherever they reach a shell.
 */
import { InvalidNameError } from './errors.ts';

/** Names that are keys of every plain object's prototype chain in one way or another. */
export const RESERVED_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype'];

// C0 controls, DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters in names is this pattern's job
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `value` is not a valid name, or undefined when it is one. */
export function nameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  if (value === '') return 'is empty';
  if (RESERVED_NAMES.includes(value)) return 'is reserved';
  if (CONTROL.test(value)) return 'contains a control character';
  return undefined;
}

/**
 * Returns `value` when it is a valid name.
 *
 * @param field what the name is, as the user wrote it (`option name`, `backends[2].name`).
 * @throws InvalidNameError naming `field` and what is allowed.
 */
export function checkName(field: string, value: unknown): string {
  if (nameProblem(value) !== undefined) throw new InvalidNameError(field, value);
  return value as string;
}

/** {@link checkName} for a name that may be left out. */
export function checkOptionalName(field: string, value: unknown): string | undefined {
  return value === undefined ? undefined : checkName(field, value);
}

/** Checks every own key of a record whose keys are names (custom resources, labels). */
export function checkNameKeys(field: string, record: unknown): void {
  if (typeof record !== 'object' || record === null) return;
  for (const key of Object.keys(record)) checkName(`${field} key`, key);
}
