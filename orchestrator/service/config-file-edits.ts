/**
 * The dashboard's edits as text edits of a config file that has comments or trailing commas
 * (JSONC, core/jsonc.ts; `orrery init` writes one with commented-out backend examples), so the
 * user's comments and layout survive: only the entry that changes is rewritten, an entry is
 * added after the last one, a removed entry takes its own comma with it. An edit that would
 * have to drop a comment (one inside the backend entry or the placement rules being replaced)
 * is refused with a message saying so, never written.
 */
import { isDeepStrictEqual } from 'node:util';
import { jsonSpans, parseJsonc, scanJsonc, type JsonSpan } from '../core/jsonc.ts';

/** One change the dashboard makes to the config file. */
export type ConfigEdit =
  | { readonly op: 'put-backend'; readonly config: Record<string, unknown> }
  | { readonly op: 'remove-backend'; readonly name: string }
  | { readonly op: 'set-placement-rules'; readonly rules: readonly unknown[] };

/** A text range replaced by `text`. */
interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * `text` (a JSONC config file holding an object) with `edit` applied, its comments kept.
 * `expected` is the document the edit must give; the result is parsed again and compared, so a
 * text edit that went wrong is refused rather than written.
 *
 * @throws Error naming `path` when the edit would drop a comment or could not be made exactly.
 */
export function editConfigText(text: string, edit: ConfigEdit, expected: unknown, path: string): string {
  const root = jsonSpans(text);
  const splices =
    edit.op === 'put-backend'
      ? putBackend(text, root, edit.config, path)
      : edit.op === 'remove-backend'
        ? removeBackend(text, root, edit.name)
        : setMember(text, root, 'placementRules', edit.rules, path);
  let out = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start))
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
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

function putBackend(text: string, root: JsonSpan, config: Record<string, unknown>, path: string): Splice[] {
  const member = root.members?.find((m) => m.key === 'backends');
  if (!member) return setMember(text, root, 'backends', [config], path);
  const items = member.value.items ?? [];
  const i = indexOfBackend(text, items, config.name);
  if (i >= 0) {
    const item = items[i];
    refuseComments(text, item, `backend ${String(config.name)}`, path);
    return [{ start: item.start, end: item.end, text: formatAt(config, indentOf(text, item.start)) }];
  }
  const last = items.at(-1);
  if (last) {
    const indent = indentOf(text, last.start);
    return [{ start: last.end, end: last.end, text: `,\n${indent}${formatAt(config, indent)}` }];
  }
  const indent = `${indentOf(text, member.keyStart)}  `;
  return [
    { start: member.value.start + 1, end: member.value.start + 1, text: `\n${indent}${formatAt(config, indent)},` },
  ];
}

function removeBackend(text: string, root: JsonSpan, name: string): Splice[] {
  const items = root.members?.find((m) => m.key === 'backends')?.value.items ?? [];
  const i = indexOfBackend(text, items, name);
  if (i < 0) return [];
  const item = items[i];
  const { plain, trailingCommas } = scanJsonc(text);
  let next = item.end;
  while (/\s/.test(plain[next] ?? '')) next++;
  const comma =
    plain[next] === ',' ? next : trailingCommas.find((c) => c >= item.end && c < next && plain[next] === ']');
  let start = item.start;
  let end = item.end;
  const splices: Splice[] = [];
  if (comma !== undefined && /^\s*$/.test(text.slice(item.end, comma))) end = comma + 1;
  else if (comma !== undefined) splices.push({ start: comma, end: comma + 1, text: '' });
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const lineEnd = text.indexOf('\n', end);
  if (/^\s*$/.test(text.slice(lineStart, start)) && lineEnd >= 0 && /^[ \t\r]*$/.test(text.slice(end, lineEnd))) {
    start = lineStart;
    end = lineEnd + 1;
  }
  splices.push({ start, end, text: '' });
  return splices;
}

/** Replaces the value of top-level `key`, or adds the member after the last one. */
function setMember(text: string, root: JsonSpan, key: string, value: unknown, path: string): Splice[] {
  const members = root.members ?? [];
  const member = members.find((m) => m.key === key);
  if (member) {
    refuseComments(text, member.value, key, path);
    return [
      { start: member.value.start, end: member.value.end, text: formatAt(value, indentOf(text, member.keyStart)) },
    ];
  }
  const last = members.at(-1);
  if (last) {
    const indent = indentOf(text, last.keyStart);
    const entry = `${JSON.stringify(key)}: ${formatAt(value, indent)}`;
    return [{ start: last.value.end, end: last.value.end, text: `,\n${indent}${entry}` }];
  }
  const entry = `${JSON.stringify(key)}: ${formatAt(value, '  ')}`;
  return [{ start: root.start + 1, end: root.start + 1, text: `\n  ${entry},` }];
}

function indexOfBackend(text: string, items: readonly JsonSpan[], name: unknown): number {
  return items.findIndex((item) => {
    const v = parseJsonc(text.slice(item.start, item.end));
    return typeof v === 'object' && v !== null && (v as Record<string, unknown>).name === name;
  });
}

function refuseComments(text: string, span: JsonSpan, what: string, path: string): void {
  const part = text.slice(span.start, span.end);
  if (scanJsonc(part).plain !== part)
    throw new Error(
      `config file ${path}: ${what} has comments inside it that the dashboard would drop when it rewrites it; edit it by hand (or remove those comments), then try again`,
    );
}

/** The whitespace before `pos` on its line (empty when something else precedes it there). */
function indentOf(text: string, pos: number): string {
  const before = text.slice(text.lastIndexOf('\n', pos - 1) + 1, pos);
  return /^[ \t]*$/.test(before) ? before : '';
}

/** `value` as 2-space JSON whose later lines start at `indent`. */
function formatAt(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2).split('\n').join(`\n${indent}`);
}
