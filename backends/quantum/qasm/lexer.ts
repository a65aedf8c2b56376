/**
 * Turns OpenQASM 2/3 source into tokens with 1-based positions. Comments and whitespace are
 * dropped here so the parser never sees them.
 */
import { QasmError } from './qasm-error.ts';

/**
 * What a token is:
 * - `id`: identifier or keyword (keywords are told apart by the parser, by text);
 * - `hwqubit`: a hardware qubit `$3` (`value` holds the index);
 * - `number`: integer or float literal (`value` holds it);
 * - `string`: a quoted string (`text` holds it without quotes);
 * - `punct`: an operator or punctuation mark;
 * - `eof`: the end of the source.
 */
export type TokenKind = 'id' | 'hwqubit' | 'number' | 'string' | 'punct' | 'eof';

/** One token of QASM source. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly value: number;
  readonly line: number;
  readonly column: number;
}

const TWO_CHAR_PUNCT = new Set([
  '**',
  '->',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '<<',
  '>>',
  '++',
  '+=',
  '-=',
  '*=',
  '/=',
]);
const ONE_CHAR_PUNCT = new Set([...';,()[]{}@=+-*/^%:<>!~&|.']);
const ID_START = /[\p{L}_]/u;
const ID_PART = /[\p{L}\p{N}_]/u;

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && ch >= '0' && ch <= '9';
}

/** Identifier characters; ASCII is decided by code, the rest (Greek angles etc.) by Unicode class. */
function isIdStart(code: number, ch: string): boolean {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95;
  return ID_START.test(ch);
}

function isIdPart(code: number, ch: string): boolean {
  if (code < 128)
    return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || (code >= 48 && code <= 57);
  return ID_PART.test(ch);
}

/** Splits `source` into tokens, ending with one `eof` token. Throws QasmError on a character no token can start with. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = source.length;
  const push = (kind: TokenKind, text: string, start: number, value = 0): void => {
    tokens.push({ kind, text, value, line, column: start - lineStart + 1 });
  };

  while (i < n) {
    const ch = source[i]!;
    if (ch === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\uFEFF') {
      i++;
      continue;
    }
    if (ch === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && source[i + 1] === '*') {
      const startLine = line;
      const startColumn = i - lineStart + 1;
      i += 2;
      while (i < n && !(source[i] === '*' && source[i + 1] === '/')) {
        if (source[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= n) {
        throw new QasmError({ line: startLine, column: startColumn }, 'unterminated block comment: add the closing */');
      }
      i += 2;
      continue;
    }
    const start = i;
    if (isDigit(ch) || (ch === '.' && isDigit(source[i + 1]))) {
      i = scanNumber(source, i, line, lineStart, tokens);
      continue;
    }
    if (isIdStart(source.charCodeAt(i), ch)) {
      i++;
      while (i < n && isIdPart(source.charCodeAt(i), source[i]!)) i++;
      push('id', source.slice(start, i), start);
      continue;
    }
    if (ch === '$') {
      i++;
      while (isDigit(source[i])) i++;
      if (i === start + 1) {
        throw new QasmError(
          { line, column: start - lineStart + 1 },
          "expected a hardware qubit number after '$' (e.g. $0)",
        );
      }
      const text = source.slice(start, i);
      push('hwqubit', text, start, Number(text.slice(1)));
      continue;
    }
    if (ch === '"' || ch === "'") {
      i++;
      while (i < n && source[i] !== ch && source[i] !== '\n') i++;
      if (source[i] !== ch) {
        throw new QasmError(
          { line, column: start - lineStart + 1 },
          `unterminated string: close it with ${ch} on the same line`,
        );
      }
      push('string', source.slice(start + 1, i), start);
      i++;
      continue;
    }
    const two = i + 1 < n ? ch + source[i + 1]! : ch;
    if (two.length === 2 && TWO_CHAR_PUNCT.has(two)) {
      push('punct', two, start);
      i += 2;
      continue;
    }
    if (ONE_CHAR_PUNCT.has(ch)) {
      push('punct', ch, start);
      i++;
      continue;
    }
    throw new QasmError({ line, column: start - lineStart + 1 }, `unexpected character '${ch}'`);
  }
  tokens.push({ kind: 'eof', text: '<end of file>', value: 0, line, column: i - lineStart + 1 });
  return tokens;
}

/** Scans an integer (decimal, 0x, 0o, 0b, with `_` separators) or float literal; returns the index after it. */
function scanNumber(source: string, start: number, line: number, lineStart: number, tokens: Token[]): number {
  const column = start - lineStart + 1;
  const radixMatch =
    source[start] === '0' && /[xXoObB]/.test(source[start + 1] ?? '')
      ? /^0([xXoObB])([0-9a-fA-F_]+)/.exec(source.slice(start, start + 80))
      : null;
  let end: number;
  let value: number;
  if (radixMatch !== null) {
    const digits = radixMatch[2]!.replaceAll('_', '');
    const radix = { x: 16, o: 8, b: 2 }[radixMatch[1]!.toLowerCase() as 'x' | 'o' | 'b'];
    value = parseInt(digits, radix);
    end = start + radixMatch[0].length;
    if (
      Number.isNaN(value) ||
      [...digits].some((d) => parseInt(d, radix) >= radix || Number.isNaN(parseInt(d, radix)))
    ) {
      throw new QasmError({ line, column }, `invalid base-${radix} literal '${radixMatch[0]}'`);
    }
  } else {
    let i = start;
    while (isDigit(source[i]) || source[i] === '_') i++;
    if (source[i] === '.') {
      i++;
      while (isDigit(source[i]) || source[i] === '_') i++;
    }
    if (source[i] === 'e' || source[i] === 'E') {
      let j = i + 1;
      if (source[j] === '+' || source[j] === '-') j++;
      if (!isDigit(source[j])) {
        throw new QasmError(
          { line, column },
          `malformed exponent in number '${source.slice(start, j)}': write e.g. 1.5e-3`,
        );
      }
      while (isDigit(source[j])) j++;
      i = j;
    }
    end = i;
    const text = source.slice(start, end);
    value = Number(text.includes('_') ? text.replaceAll('_', '') : text);
  }
  tokens.push({ kind: 'number', text: source.slice(start, end), value, line, column });
  return end;
}
