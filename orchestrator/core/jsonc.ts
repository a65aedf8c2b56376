/**
 * JSON with comments (JSONC, as tsconfig.json and VS Code's settings): `//` line comments,
 * `/* *\/` block comments and trailing commas before `]` or `}`, read with jsonc-parser (VS
 * Code's own). service/config-file-edits.ts edits such text with the same package.
 */
import { getNodeValue, type ParseError, type ParseOptions, parseTree, printParseErrorCode } from 'jsonc-parser';

/** Comments and trailing commas allowed. */
export const JSONC_OPTIONS: ParseOptions = { allowTrailingComma: true, disallowComments: false };

/** A JSONC text that is not valid, with where (1-based line and column, as editors count). */
export class JsoncSyntaxError extends SyntaxError {
  override readonly name = 'JsoncSyntaxError';
  constructor(
    /** What is wrong (jsonc-parser's error code, e.g. `CommaExpected`), without the place. */
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

/**
 * Parses JSONC into plain objects, as JSON.parse makes them (a `"__proto__"` key is an own
 * property, never the prototype).
 *
 * @throws JsoncSyntaxError naming the line and column of the first problem.
 */
export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, JSONC_OPTIONS);
  const first = errors[0];
  if (first || !root) {
    const before = text.slice(0, first?.offset ?? 0);
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new JsoncSyntaxError(first ? printParseErrorCode(first.error) : 'ValueExpected', line, column);
  }
  // getNodeValue's objects have no prototype: the round trip makes them plain ones.
  return JSON.parse(JSON.stringify(getNodeValue(root)));
}
