/**
 * Classical expressions of gate parameters and declarations: parsing (precedence climbing, one
 * token of look-ahead, linear time) and evaluation to a double.
 */
import type { Token } from './lexer.ts';
import { QasmError } from './qasm-error.ts';
import { describeToken, type TokenStream } from './token-stream.ts';

/** A parsed expression; `at` is the token errors about it point to. */
export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly at: Token }
  | { readonly kind: 'name'; readonly name: string; readonly at: Token }
  | { readonly kind: 'negate'; readonly operand: Expr; readonly at: Token }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr; readonly at: Token }
  | { readonly kind: 'call'; readonly fn: string; readonly arg: Expr; readonly at: Token };

/** Built-in constants (OpenQASM 3 spells them with letters or symbols). */
export const BUILTIN_CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['π', Math.PI],
  ['tau', 2 * Math.PI],
  ['τ', 2 * Math.PI],
  ['euler', Math.E],
  ['ℇ', Math.E],
]);

const FUNCTIONS: ReadonlyMap<string, (x: number) => number> = new Map([
  ['sin', Math.sin],
  ['cos', Math.cos],
  ['tan', Math.tan],
  ['exp', Math.exp],
  ['ln', Math.log],
  ['sqrt', Math.sqrt],
  ['arcsin', Math.asin],
  ['arccos', Math.acos],
  ['arctan', Math.atan],
]);

/** How names in an expression are checked while parsing: returns false for a name not in scope. */
export type NameCheck = (name: string) => boolean;

/** Options that differ between the two language versions. */
export interface ExpressionSyntax {
  /** OpenQASM 2 writes powers as `^`; OpenQASM 3 uses `**` (and `^` is xor there). */
  readonly caretIsPower: boolean;
  /** Names allowed besides built-in constants; `scopeHint` ends the unknown-name message. */
  readonly isKnown: NameCheck;
  readonly scopeHint: string;
}

/** Parses one expression at the stream's position. */
export function parseExpression(ts: TokenStream, syntax: ExpressionSyntax): Expr {
  return parseAdditive(ts, syntax);
}

function parseAdditive(ts: TokenStream, syntax: ExpressionSyntax): Expr {
  let left = parseMultiplicative(ts, syntax);
  while (ts.at('+') || ts.at('-')) {
    const at = ts.next();
    left = { kind: 'binary', op: at.text, left, right: parseMultiplicative(ts, syntax), at };
  }
  return left;
}

function parseMultiplicative(ts: TokenStream, syntax: ExpressionSyntax): Expr {
  let left = parseUnary(ts, syntax);
  while (ts.at('*') || ts.at('/') || ts.at('%')) {
    const at = ts.next();
    left = { kind: 'binary', op: at.text, left, right: parseUnary(ts, syntax), at };
  }
  return left;
}

/** Unary minus binds looser than powers: `-2**2` is -4, as in OpenQASM 3 and Python. */
function parseUnary(ts: TokenStream, syntax: ExpressionSyntax): Expr {
  if (ts.at('-')) {
    const at = ts.next();
    return { kind: 'negate', operand: parseUnary(ts, syntax), at };
  }
  if (ts.at('+')) {
    ts.next();
    return parseUnary(ts, syntax);
  }
  return parsePower(ts, syntax);
}

function parsePower(ts: TokenStream, syntax: ExpressionSyntax): Expr {
  const base = parsePrimary(ts, syntax);
  if (ts.at('**') || ts.at('^')) {
    if (ts.at('^') && !syntax.caretIsPower) {
      ts.fail("'^' is bitwise xor in OpenQASM 3 and is not supported in angles; write powers as '**'");
    }
    const at = ts.next();
    return { kind: 'binary', op: '**', left: base, right: parseUnary(ts, syntax), at };
  }
  return base;
}

function parsePrimary(ts: TokenStream, syntax: ExpressionSyntax): Expr {
  const at = ts.peek();
  if (at.kind === 'number') {
    ts.next();
    return { kind: 'number', value: at.value, at };
  }
  if (at.kind === 'punct' && at.text === '(') {
    ts.next();
    const inner = parseAdditive(ts, syntax);
    ts.expect(')', 'to close the parenthesis');
    return inner;
  }
  if (at.kind === 'id') {
    ts.next();
    if (ts.at('(')) {
      if (!FUNCTIONS.has(at.text)) {
        throw new QasmError(at, `unknown function '${at.text}'; available: ${[...FUNCTIONS.keys()].join(', ')}`);
      }
      ts.next();
      const arg = parseAdditive(ts, syntax);
      ts.expect(')', `to close the call of ${at.text}`);
      return { kind: 'call', fn: at.text, arg, at };
    }
    if (!BUILTIN_CONSTANTS.has(at.text) && !syntax.isKnown(at.text)) {
      throw new QasmError(at, `unknown name '${at.text}' in expression; ${syntax.scopeHint}`);
    }
    return { kind: 'name', name: at.text, at };
  }
  throw new QasmError(at, `expected a number, name or '(' in expression, found ${describeToken(at)}`);
}

/** Looks up a name's value; undefined for a name not in scope. */
export type NameLookup = (name: string) => number | undefined;

/** Evaluates an expression as a double; names resolve through `lookup`, then the built-in constants. */
export function evaluate(expr: Expr, lookup: NameLookup): number {
  switch (expr.kind) {
    case 'number':
      return expr.value;
    case 'name': {
      const value = lookup(expr.name) ?? BUILTIN_CONSTANTS.get(expr.name);
      if (value === undefined) throw new QasmError(expr.at, `unknown name '${expr.name}' in expression`);
      return value;
    }
    case 'negate':
      return -evaluate(expr.operand, lookup);
    case 'call':
      return FUNCTIONS.get(expr.fn)!(evaluate(expr.arg, lookup));
    case 'binary': {
      const left = evaluate(expr.left, lookup);
      const right = evaluate(expr.right, lookup);
      switch (expr.op) {
        case '+':
          return left + right;
        case '-':
          return left - right;
        case '*':
          return left * right;
        case '/':
          return left / right;
        case '%':
          return left % right;
        default:
          return left ** right;
      }
    }
  }
}

/** The token at which an expression starts (its leftmost token), for error positions. */
export function firstToken(expr: Expr): Token {
  switch (expr.kind) {
    case 'binary':
      return firstToken(expr.left);
    default:
      return expr.at;
  }
}
