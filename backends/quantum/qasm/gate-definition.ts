/**
 * `gate` and `opaque` declarations. A definition whose name and arity match a built-in gate
 * (e.g. the `gate rzz(theta) a, b { ... }` that exporters write for gates missing from
 * stdgates.inc) is read and checked but the built-in IR gate is kept, as Qiskit's importers do;
 * any other definition is expanded inline at each call.
 */
import type { Token } from './lexer.ts';
import type { Expr, ExpressionSyntax } from './expressions.ts';
import { BUILTIN_GATES } from './gate-library.ts';
import type { BodyStatement, GateTarget, Modifier, UserGate } from './gate-expansion.ts';
import { QasmError } from './qasm-error.ts';
import type { TokenStream } from './token-stream.ts';

/** What reading a definition needs from the program parser (kept as an interface to avoid an import cycle). */
export interface DefinitionContext {
  readonly ts: TokenStream;
  readonly version: 2 | 3;
  readonly constants: ReadonlyMap<string, number>;
  readonly userGates: Map<string, GateTarget>;
  declare(at: Token, what: string): void;
  resolveGate(at: Token): GateTarget;
  parseModifiers(): Modifier[];
  parseParameterList(syntax: ExpressionSyntax): Expr[];
  checkArity(at: Token, target: GateTarget, modifiers: readonly Modifier[], params: number, qubits: number): void;
}

const NOT_IN_BODY = new Set([
  'measure',
  'reset',
  'if',
  'for',
  'while',
  'delay',
  'box',
  'qubit',
  'bit',
  'qreg',
  'creg',
  'gate',
  'opaque',
  'input',
  'const',
]);

/** Parses `gate name(params) a, b { body }` at the stream's position and registers it. */
export function parseGateDefinition(p: DefinitionContext): void {
  const ts = p.ts;
  ts.next();
  const name = ts.expectId('a gate name');
  p.declare(name, 'a gate');
  const paramTokens = parseParameterNames(p);
  const qubitTokens = parseQubitNames(p, name);
  const paramNames = paramTokens.map((t) => t.text);
  const qubitNames = qubitTokens.map((t) => t.text);
  const syntax: ExpressionSyntax = {
    caretIsPower: p.version === 2,
    isKnown: (n) => paramNames.includes(n) || p.constants.has(n),
    scopeHint:
      paramNames.length > 0
        ? `the parameters of gate '${name.text}' are ${paramNames.join(', ')}`
        : `gate '${name.text}' has no parameters; add one with 'gate ${name.text}(${'name'}) ...'`,
  };
  ts.expect('{', `to start the body of gate '${name.text}'`);
  const body: BodyStatement[] = [];
  while (!ts.accept('}')) {
    if (ts.peek().kind === 'eof') ts.fail(`unterminated body of gate '${name.text}': add the closing '}'`);
    if (ts.accept(';')) continue;
    body.push(parseBodyStatement(p, name, qubitNames, syntax));
  }
  const builtin = BUILTIN_GATES.get(name.text);
  if (builtin !== undefined && builtin.params === paramNames.length && builtin.qubits === qubitNames.length) return;
  const gate: UserGate = { kind: 'user', name: name.text, paramNames, qubitNames, body, constants: p.constants };
  p.userGates.set(name.text, gate);
}

/** Parses `opaque name(params) a, b;`: calling it later is an error, as there is nothing to run. */
export function parseOpaqueDeclaration(p: DefinitionContext): void {
  const ts = p.ts;
  ts.next();
  const name = ts.expectId('a gate name');
  p.declare(name, 'an opaque gate');
  const params = parseParameterNames(p).length;
  const qubits = parseQubitNames(p, name).length;
  ts.expect(';', 'after the opaque declaration');
  const builtin = BUILTIN_GATES.get(name.text);
  if (builtin !== undefined && builtin.params === params && builtin.qubits === qubits) return;
  p.userGates.set(name.text, { kind: 'opaque', name: name.text, params, qubits });
}

function parseParameterNames(p: DefinitionContext): Token[] {
  const names: Token[] = [];
  if (!p.ts.accept('(')) return names;
  if (p.ts.accept(')')) return names;
  do names.push(distinct(names, p.ts.expectId('a parameter name'), 'parameter'));
  while (p.ts.accept(','));
  p.ts.expect(')', 'to close the parameter names');
  return names;
}

function parseQubitNames(p: DefinitionContext, gate: Token): Token[] {
  const names: Token[] = [];
  do names.push(distinct(names, p.ts.expectId(`a qubit argument name for gate '${gate.text}'`), 'qubit argument'));
  while (p.ts.accept(','));
  return names;
}

function distinct(previous: readonly Token[], token: Token, what: string): Token {
  if (previous.some((t) => t.text === token.text)) {
    throw new QasmError(token, `${what} '${token.text}' is listed twice; give each ${what} its own name`);
  }
  return token;
}

function parseBodyStatement(
  p: DefinitionContext,
  gate: Token,
  qubitNames: readonly string[],
  syntax: ExpressionSyntax,
): BodyStatement {
  const ts = p.ts;
  const first = ts.peek();
  if (first.kind === 'id' && NOT_IN_BODY.has(first.text)) {
    throw new QasmError(
      first,
      `'${first.text}' cannot appear in the body of gate '${gate.text}': a gate body holds only gate calls, gphase and barrier`,
    );
  }
  if (ts.accept('barrier')) {
    const qubits = ts.at(';') ? qubitNames.map((_, i) => i) : parseBodyOperands(p, gate, qubitNames);
    ts.expect(';', 'after the barrier operands');
    return { kind: 'barrier', qubits };
  }
  const modifiers = p.parseModifiers();
  const callName = ts.expectId(`a gate call in the body of gate '${gate.text}'`);
  if (callName.text === gate.text) {
    throw new QasmError(
      callName,
      `gate '${gate.text}' cannot call itself: a gate may only use gates defined before it`,
    );
  }
  const target = p.resolveGate(callName);
  const params = p.parseParameterList(syntax);
  const qubits = ts.at(';') ? [] : parseBodyOperands(p, gate, qubitNames);
  ts.expect(';', 'after the gate operands');
  p.checkArity(callName, target, modifiers, params.length, qubits.length);
  return { kind: 'call', at: callName, target, modifiers, params, qubits };
}

/** Qubit operands inside a body: argument names only, each at most once. */
function parseBodyOperands(p: DefinitionContext, gate: Token, qubitNames: readonly string[]): number[] {
  const indices: number[] = [];
  do {
    const operand = p.ts.peek();
    if (operand.kind !== 'id' || !qubitNames.includes(operand.text)) {
      p.ts.fail(
        `expected a qubit argument of gate '${gate.text}' (${qubitNames.join(', ')}), found '${operand.text}'; gate bodies address qubits only by argument name`,
      );
    }
    p.ts.next();
    if (p.ts.at('[')) p.ts.fail(`qubit argument '${operand.text}' of a gate is a single qubit and cannot be indexed`);
    const index = qubitNames.indexOf(operand.text);
    if (indices.includes(index)) {
      throw new QasmError(
        operand,
        `qubit argument '${operand.text}' is used twice in one gate call; a gate's qubits must be distinct`,
      );
    }
    indices.push(index);
  } while (p.ts.accept(','));
  return indices;
}
