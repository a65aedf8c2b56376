/**
 * JSON with comments (JSONC, as tsconfig.json and VS Code's settings): `//` line comments,
 * `/* *\/` block comments and trailing commas before `]` or `}`. The text is blanked, not
 * rewritten: comments and trailing commas become spaces (newlines stay), so the blanked text
 * is plain JSON with every value at the same offset, line and column as in the file. That is
 * what lets JSON.parse's error positions, and the spans an editor replaces
 * (service/config-file-edits.ts), refer to the file as the user sees it.
 */

/** A JSONC text that is not valid, with where (1-based line and column, as editors count). */
export class JsoncSyntaxError extends SyntaxError {
  override readonly name = 'JsoncSyntaxError';
  constructor(
    /** What is wrong, without the place. */
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

/** `text` with comments and trailing commas replaced by spaces (newlines kept): plain JSON of the same length. */
export function blankJsonc(text: string): string {
  return scanJsonc(text).plain;
}

/** The blanked text, and the offsets of the trailing commas it blanked (an editor removing an entry removes its comma too). */
export function scanJsonc(text: string): { plain: string; trailingCommas: number[] } {
  const out = text.split('');
  const trailingCommas: number[] = [];
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  let i = 0;
  let lastComma = -1;
  // The last character outside comments and whitespace: a comma after `[`, `{` or `,` follows no value, so it is never a trailing one.
  let previous = '';
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i = stringEnd(text, i);
      lastComma = -1;
      previous = c;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError(text, i, 'a block comment /* is never closed with */');
      blank(i, end + 2);
      i = end + 2;
    } else if (c === ',') {
      lastComma = previous === '' || '[{,'.includes(previous) ? -1 : i;
      previous = c;
      i++;
    } else if (c === ']' || c === '}') {
      if (lastComma >= 0) {
        out[lastComma] = ' ';
        trailingCommas.push(lastComma);
      }
      lastComma = -1;
      previous = c;
      i++;
    } else {
      if (!/\s/.test(c)) {
        lastComma = -1;
        previous = c;
      }
      i++;
    }
  }
  return { plain: out.join(''), trailingCommas };
}

/** True when `text` has a comment or a trailing comma (so a plain JSON rewrite would lose something). */
export function hasJsoncExtras(text: string): boolean {
  return blankJsonc(text) !== text;
}

/**
 * Parses JSONC.
 *
 * @throws JsoncSyntaxError naming the line and column of the first problem.
 */
export function parseJsonc(text: string): unknown {
  const plain = blankJsonc(text);
  try {
    return JSON.parse(plain);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const pos = at ? Number(at[1]) : /end of JSON input/.test(message) ? plain.length : firstProblem(plain);
    // The position and V8's excerpt refer to the blanked text: the line and column replace them.
    const reason = message
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/, (?:".*"|\.\.\.".*) is not valid JSON$/s, '');
    throw syntaxError(text, pos, reason);
  }
}

/** 1-based line and column of offset `pos` in `text`. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, column: pos - (before.lastIndexOf('\n') + 1) + 1 };
}

/** Where a JSON value lies in the text: [start, end), and its members or items when it has any. */
export interface JsonSpan {
  readonly start: number;
  readonly end: number;
  /** An object's members in order, with the offset of each key. */
  readonly members?: readonly { readonly key: string; readonly keyStart: number; readonly value: JsonSpan }[];
  /** An array's items in order. */
  readonly items?: readonly JsonSpan[];
}

/**
 * The spans of the value in `text` (JSONC), nested. The text must parse (call parseJsonc
 * first); offsets are those of `text` itself.
 */
export function jsonSpans(text: string): JsonSpan {
  const plain = blankJsonc(text);
  const skip = (i: number) => {
    while (i < plain.length && /\s/.test(plain[i])) i++;
    return i;
  };
  const value = (from: number): JsonSpan => {
    const start = skip(from);
    const c = plain[start];
    if (c === '{') {
      const members: { key: string; keyStart: number; value: JsonSpan }[] = [];
      let i = skip(start + 1);
      while (plain[i] !== '}') {
        const keyEnd = stringEnd(plain, i);
        const key = JSON.parse(plain.slice(i, keyEnd)) as string;
        const v = value(skip(keyEnd) + 1);
        members.push({ key, keyStart: i, value: v });
        i = skip(v.end);
        if (plain[i] === ',') i = skip(i + 1);
      }
      return { start, end: i + 1, members };
    }
    if (c === '[') {
      const items: JsonSpan[] = [];
      let i = skip(start + 1);
      while (plain[i] !== ']') {
        const v = value(i);
        items.push(v);
        i = skip(v.end);
        if (plain[i] === ',') i = skip(i + 1);
      }
      return { start, end: i + 1, items };
    }
    if (c === '"') return { start, end: stringEnd(plain, start) };
    let end = start;
    while (end < plain.length && /[-+.\w]/.test(plain[end])) end++;
    return { start, end };
  };
  return value(0);
}

/** The offset just past the string literal that starts at `i` (the text's end when it is never closed). */
function stringEnd(text: string, i: number): number {
  let k = i + 1;
  while (k < text.length && text[k] !== '"' && text[k] !== '\n') k += text[k] === '\\' ? 2 : 1;
  return Math.min(k + 1, text.length);
}

/**
 * For a JSON.parse message without a position (`Unexpected token ',', ...`): the first offset
 * whose prefix fails before its end (a prefix that only stops early is not a mistake yet).
 */
function firstProblem(plain: string): number {
  const failsWithin = (length: number) => {
    try {
      JSON.parse(plain.slice(0, length));
      return false;
    } catch (err) {
      const message = (err as Error).message;
      const at = /at position (\d+)/.exec(message);
      if (at) return Number(at[1]) < length;
      return !/end of JSON input/.test(message);
    }
  };
  let lo = 0;
  let hi = plain.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsWithin(mid + 1)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function syntaxError(text: string, pos: number, reason: string): JsoncSyntaxError {
  const { line, column } = lineColumn(text, pos);
  return new JsoncSyntaxError(reason, line, column);
}
