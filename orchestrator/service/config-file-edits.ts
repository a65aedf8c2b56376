/**
 * The dashboard's edits as text edits of a config file that has comments or trailing commas
 * (JSONC, core/jsonc.ts; `orrery init` writes one with commented-out backend examples), made
 * with jsonc-parser's modify, so the user's comments outside the changed value stay: only the
 * entry or rules that change are rewritten (formatted, 2 spaces), an entry is added after the
 * last one, a removed entry takes its own comma with it. Replacing a value drops the comments
 * inside it, so such an edit is refused with a message saying so, never written.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  applyEdits,
  createScanner,
  type Edit,
  findNodeAtLocation,
  format,
  getNodeValue,
  type JSONPath,
  modify,
  type Node,
  parseTree,
  stripComments,
} from 'jsonc-parser';
import { JSONC_OPTIONS, parseJsonc } from '../core/jsonc.ts';

/** One change the dashboard makes to the config file. */
export type ConfigEdit =
  /** Adds or replaces a backend; `saved`: it is listed in `savedBackends` (not started by `orrery start`), else taken off it. */
  | { readonly op: 'put-backend'; readonly config: Record<string, unknown>; readonly saved?: boolean }
  | { readonly op: 'remove-backend'; readonly name: string }
  | { readonly op: 'set-placement-rules'; readonly rules: readonly unknown[] };

/**
 * `text` (a JSONC config file holding an object) with `edit` applied, its comments kept.
 * `expected` is the document the edit must give; the result is parsed again and compared, so a
 * text edit that went wrong (e.g. a key given twice, of which modify changes the first) is
 * refused rather than written.
 *
 * @throws Error naming `path` when the edit would drop a comment or could not be made exactly.
 */
export function editConfigText(text: string, edit: ConfigEdit, expected: unknown, path: string): string {
  const root = parseTree(text, [], JSONC_OPTIONS);
  const out = root ? edited(text, root, edit, path) : text;
  let got: unknown;
  try {
    got = parseJsonc(out);
  } catch {
    got = undefined;
  }
  if (!isDeepStrictEqual(got, expected))
    throw new Error(
      `config file ${path}: the dashboard could not edit it without losing its comments; make the change by hand (or remove the comments), then try again`,
    );
  return out;
}

function edited(text: string, root: Node, edit: ConfigEdit, path: string): string {
  if (edit.op === 'set-placement-rules') return set(text, root, ['placementRules'], edit.rules, 'placementRules', path);
  const name = edit.op === 'put-backend' ? edit.config.name : edit.name;
  const items = findNodeAtLocation(root, ['backends'])?.children ?? [];
  const i = items.findIndex((item) => (getNodeValue(item) as { name?: unknown } | null)?.name === name);
  const out =
    edit.op === 'remove-backend'
      ? i < 0
        ? text
        : applyEdits(text, removeItem(text, items, i))
      : // Index -1 appends.
        set(text, root, ['backends', i], edit.config, `backend ${String(name)}`, path);
  return savedEdited(out, String(name), edit.op === 'put-backend' && edit.saved === true, path);
}

/** `text` with backend `name` put on (`saved`) or taken off the `savedBackends` list; the key goes when the list empties. */
function savedEdited(text: string, name: string, saved: boolean, path: string): string {
  const root = parseTree(text, [], JSONC_OPTIONS);
  if (!root) return text;
  const old = findNodeAtLocation(root, ['savedBackends']);
  const list = old ? (getNodeValue(old) as unknown[]) : [];
  const next = savedList(list, name, saved);
  if (isDeepStrictEqual(next, list)) return text;
  return set(text, root, ['savedBackends'], next.length > 0 ? next : undefined, 'savedBackends', path);
}

/** `list` with `name` on it (`saved`) or off it. */
export function savedList(list: readonly unknown[], name: string, saved: boolean): unknown[] {
  const rest = list.filter((n) => n !== name);
  return saved ? [...rest, name] : rest;
}

/**
 * `text` with `at` set to `value` (added when absent), refused when the value it replaces holds
 * a comment. Only the new text is formatted: modify's own formatting would rewrite the whole
 * lines the edit touches (e.g. the entry an added one follows).
 */
function set(text: string, root: Node, at: JSONPath, value: unknown, what: string, path: string): string {
  const old = findNodeAtLocation(root, at);
  const part = old ? text.slice(old.offset, old.offset + old.length) : '';
  if (stripComments(part) !== part)
    throw new Error(
      `config file ${path}: ${what} has comments inside it that the dashboard would drop when it rewrites it; edit it by hand (or remove those comments), then try again`,
    );
  const edits = modify(text, at, value, {});
  const out = applyEdits(text, edits);
  const range = edits[0] && { offset: edits[0].offset, length: edits[0].content.length };
  return range ? applyEdits(out, format(out, range, { insertSpaces: true, tabSize: 2 })) : out;
}

/**
 * The edits removing `items[i]` with its comma (the one after it, else the one before it), and
 * its lines when nothing else is on them; the comments around it stay. (modify's removal
 * takes everything up to the next item or the array's end, comments included.)
 */
function removeItem(text: string, items: Node[], i: number): Edit[] {
  const item = items[i]!;
  let start = item.offset;
  let end = item.offset + item.length;
  const edits: Edit[] = [];
  const after = commaAfter(text, end);
  const before = i > 0 ? commaAfter(text, items[i - 1]!.offset + items[i - 1]!.length) : undefined;
  if (after !== undefined && /^\s*$/.test(text.slice(end, after))) end = after + 1;
  else if (after !== undefined) edits.push({ offset: after, length: 1, content: '' });
  else if (before !== undefined) edits.push({ offset: before, length: 1, content: '' });
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const lineEnd = text.indexOf('\n', end);
  if (/^[ \t]*$/.test(text.slice(lineStart, start)) && lineEnd >= 0 && /^[ \t\r]*$/.test(text.slice(end, lineEnd))) {
    start = lineStart;
    end = lineEnd + 1;
  }
  edits.push({ offset: start, length: end - start, content: '' });
  return edits;
}

/** The offset of the next token after `offset` (comments skipped) when it is a comma. */
function commaAfter(text: string, offset: number): number | undefined {
  const scanner = createScanner(text, true);
  scanner.setPosition(offset);
  scanner.scan();
  const at = scanner.getTokenOffset();
  return text[at] === ',' ? at : undefined;
}
