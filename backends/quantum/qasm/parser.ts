/**
 * Reads an OpenQASM 2 or 3 program statement by statement and builds the bound Circuit as it
 * goes (one pass, linear in the source; user gates are expanded at each call).
 */
import type { Circuit, Operation } from '../circuit.ts';
import { evaluate, parseExpression, type Expr, type ExpressionSyntax } from './expressions.ts';
import { BUILTIN_GATES, type ExpandedOp } from './gate-library.ts';
import {
  controlCount,
  expandCall,
  checkedValue,
  targetArity,
  type GateTarget,
  type Modifier,
} from './gate-expansion.ts';
import { parseGateDefinition, parseOpaqueDeclaration } from './gate-definition.ts';
import { tokenize, type Token } from './lexer.ts';
import { QasmError } from './qasm-error.ts';
import { RegisterTable, type Operand, type ResolvedOperand } from './registers.ts';
import { describeToken, TokenStream } from './token-stream.ts';

/** What reading a program yields: the circuit and its `input` names in declaration order. */
export interface ParsedProgram {
  readonly circuit: Circuit;
  readonly inputs: readonly string[];
}

/**
 * How `input` declarations get values:
 * - `bind`: from `params`; a missing or unknown parameter is an error;
 * - `collect`: every input gets a placeholder (1 for int/uint, 0.7390851332151607 otherwise: a
 *   value unlikely to divide by zero), to list the inputs of a program without running it.
 */
export type InputMode =
  | { readonly kind: 'bind'; readonly params: Readonly<Record<string, number>> }
  | { readonly kind: 'collect' };

const CLASSICAL_TYPES = new Set(['float', 'angle', 'int', 'uint']);
const MODIFIERS = new Set(['ctrl', 'negctrl', 'inv', 'pow']);

const UNSUPPORTED: ReadonlyMap<string, string> = new Map([
  [
    'if',
    "classically controlled operations ('if') are not supported: Orrery runs circuits without mid-circuit feedback; remove the condition or run the branches as separate circuits",
  ],
  ['for', "'for' loops are not supported: Orrery runs straight-line circuits; unroll the loop"],
  ['while', "'while' loops are not supported: Orrery runs straight-line circuits; unroll the loop"],
  ['def', "subroutines ('def') are not supported; write the operations inline or as a 'gate' definition"],
  ['delay', "'delay' is not supported: Orrery circuits carry no timing; remove it"],
  ['box', "'box' is not supported: Orrery circuits carry no timing; remove the box and keep its contents"],
  ['switch', "'switch' is not supported: Orrery runs circuits without mid-circuit feedback"],
]);
const OTHER_UNSUPPORTED: ReadonlySet<string> = new Set([
  'let',
  'extern',
  'defcal',
  'cal',
  'defcalgrammar',
  'return',
  'break',
  'continue',
  'output',
  'duration',
  'stretch',
  'array',
  'complex',
  'bool',
  'end',
  'case',
  'default',
  'pragma',
]);
const SUPPORTED_STATEMENTS =
  'gate calls, measure, reset, barrier, qubit/bit/qreg/creg declarations, input, const, gate, include';

/** Parses and binds a whole program. */
export function parseProgram(source: string, inputMode: InputMode): ParsedProgram {
  return new ProgramParser(source, inputMode).parse();
}

/** Where names are declared, for redeclaration errors. */
interface Declaration {
  readonly what: string;
  readonly at: Token;
}

/** The state of one program being read; the gate-definition reader works on it too. */
export class ProgramParser {
  readonly ts: TokenStream;
  version: 2 | 3 = 3;
  readonly registers = new RegisterTable();
  readonly userGates = new Map<string, GateTarget>();
  readonly constants = new Map<string, number>();
  private readonly declarations = new Map<string, Declaration>();
  private readonly inputs: Token[] = [];
  private readonly ops: Operation[] = [];
  private readonly scratch: ExpandedOp[] = [];
  private syntax: ExpressionSyntax | undefined;
  private readonly lookupConstant = (name: string): number | undefined => this.constants.get(name);

  constructor(
    source: string,
    private readonly inputMode: InputMode,
  ) {
    this.ts = new TokenStream(tokenize(source));
  }

  parse(): ParsedProgram {
    this.parseHeader();
    while (this.ts.peek().kind !== 'eof') this.parseStatement();
    this.checkUnusedParams();
    const registers = this.registers.finish();
    return { circuit: { ...registers, ops: this.ops }, inputs: this.inputs.map((t) => t.text) };
  }

  /** Expression syntax for top-level expressions (and modifiers): constants and inputs are in scope. */
  globalSyntax(): ExpressionSyntax {
    if (this.syntax?.caretIsPower !== (this.version === 2)) {
      this.syntax = {
        caretIsPower: this.version === 2,
        isKnown: (name) => this.constants.has(name),
        scopeHint: "declare it first with 'const float name = ...;' or 'input float name;'",
      };
    }
    return this.syntax;
  }

  /** Records a new name; fails if the name is taken. */
  declare(at: Token, what: string): void {
    const previous = this.declarations.get(at.text);
    if (previous !== undefined) {
      throw new QasmError(
        at,
        `'${at.text}' is already declared (as ${previous.what} at line ${previous.at.line}, column ${previous.at.column}); choose another name`,
      );
    }
    this.declarations.set(at.text, { what, at });
  }

  /** Finds the gate a call names: user gates first (they may shadow builtins), then builtins. */
  resolveGate(at: Token): GateTarget {
    const user = this.userGates.get(at.text);
    if (user !== undefined) return user;
    const builtin = BUILTIN_GATES.get(at.text);
    if (builtin !== undefined) return { kind: 'builtin', gate: builtin };
    const known = [...new Set([...BUILTIN_GATES.keys(), ...this.userGates.keys()])].sort().join(', ');
    throw new QasmError(
      at,
      `unknown gate '${at.text}'; known gates: ${known}. Define it with 'gate ${at.text} ... { ... }' before using it`,
    );
  }

  /** Parses `ctrl @`, `ctrl(n) @`, `inv @`, `pow(k) @` prefixes; their arguments may use constants only. */
  parseModifiers(): Modifier[] {
    const modifiers: Modifier[] = [];
    for (;;) {
      const at = this.ts.peek();
      const following = this.ts.peek(1);
      const isModifier =
        at.kind === 'id' &&
        MODIFIERS.has(at.text) &&
        following.kind === 'punct' &&
        (following.text === '@' || following.text === '(');
      if (!isModifier) return modifiers;
      this.ts.next();
      if (at.text === 'negctrl') {
        throw new QasmError(
          at,
          "'negctrl @' is not supported; surround the call with x gates on the control instead (x c; ctrl @ g c, t; x c;)",
        );
      }
      if (at.text === 'inv') {
        this.ts.expect('@', "after 'inv'");
        modifiers.push({ kind: 'inv', at });
      } else if (at.text === 'ctrl') {
        let count = 1;
        if (this.ts.accept('(')) {
          count = this.integerExpression('the number of controls', 1);
          this.ts.expect(')', 'after the number of controls');
        }
        this.ts.expect('@', "after 'ctrl'");
        modifiers.push({ kind: 'ctrl', count, at });
      } else {
        this.ts.expect('(', "after 'pow'");
        const exponent = this.integerExpression('the exponent of pow', Number.NEGATIVE_INFINITY);
        this.ts.expect(')', 'after the exponent');
        this.ts.expect('@', "after 'pow(...)'");
        modifiers.push({ kind: 'pow', exponent, at });
      }
    }
  }

  /** Parses `( e1, e2, ... )` if present; returns the expressions. */
  parseParameterList(syntax: ExpressionSyntax): Expr[] {
    const params: Expr[] = [];
    if (!this.ts.accept('(')) return params;
    if (this.ts.accept(')')) return params;
    do params.push(parseExpression(this.ts, syntax));
    while (this.ts.accept(','));
    this.ts.expect(')', 'to close the parameter list');
    return params;
  }

  /** Fails when a call's parameter or qubit count does not match its gate. */
  checkArity(at: Token, target: GateTarget, modifiers: readonly Modifier[], params: number, qubits: number): void {
    const arity = targetArity(target);
    if (params !== arity.params) {
      throw new QasmError(
        at,
        `gate '${at.text}' takes ${plural(arity.params, 'parameter')}, but ${params} ${params === 1 ? 'was' : 'were'} given`,
      );
    }
    const controls = controlCount(modifiers);
    const expected = arity.qubits + controls;
    if (qubits !== expected) {
      const detail = controls > 0 ? ` (${controls} control${controls === 1 ? '' : 's'} + ${arity.qubits})` : '';
      throw new QasmError(
        at,
        `gate '${at.text}' takes ${plural(expected, 'qubit')}${detail}, but ${qubits} ${qubits === 1 ? 'was' : 'were'} given`,
      );
    }
  }

  private parseHeader(): void {
    if (!this.ts.at('OPENQASM')) return;
    this.ts.next();
    const version = this.ts.peek();
    if (version.kind !== 'number' || (Math.floor(version.value) !== 2 && Math.floor(version.value) !== 3)) {
      throw new QasmError(
        version,
        `unsupported OpenQASM version ${describeToken(version)}; Orrery reads OPENQASM 2.0 and OPENQASM 3`,
      );
    }
    this.ts.next();
    this.version = Math.floor(version.value) as 2 | 3;
    this.ts.expect(';', 'after the OPENQASM version');
  }

  private parseStatement(): void {
    const at = this.ts.peek();
    if (this.ts.accept(';')) return;
    if (at.kind !== 'id' && at.kind !== 'hwqubit') {
      this.ts.fail(`expected a statement (${SUPPORTED_STATEMENTS}), found ${describeToken(at)}`);
    }
    const unsupported = UNSUPPORTED.get(at.text);
    if (unsupported !== undefined) throw new QasmError(at, unsupported);
    if (OTHER_UNSUPPORTED.has(at.text)) {
      throw new QasmError(
        at,
        `'${at.text}' is not supported by Orrery's OpenQASM reader, which runs straight-line circuits (${SUPPORTED_STATEMENTS}); remove it`,
      );
    }
    switch (at.text) {
      case 'OPENQASM':
        throw new QasmError(at, 'the OPENQASM version line must be the first statement of the program');
      case 'include':
        return this.parseInclude();
      case 'qreg':
      case 'creg':
        return this.parseLegacyRegister();
      case 'qubit':
      case 'bit':
        return this.parseRegister();
      case 'input':
        return this.parseInput();
      case 'const':
        this.ts.next();
        return this.parseClassical(true);
      case 'gate':
        return parseGateDefinition(this);
      case 'opaque':
        return parseOpaqueDeclaration(this);
      case 'measure':
        return this.parseMeasureArrow();
      case 'reset':
        return this.parseReset();
      case 'barrier':
        return this.parseBarrier();
    }
    if (CLASSICAL_TYPES.has(at.text)) return this.parseClassical(false);
    const following = this.ts.peek(1);
    if (at.kind === 'id' && following.kind === 'punct' && (following.text === '=' || following.text === '[')) {
      return this.parseAssignment();
    }
    this.parseGateCall();
  }

  private parseInclude(): void {
    this.ts.next();
    const file = this.ts.peek();
    if (file.kind !== 'string')
      this.ts.fail(`expected a file name in quotes after 'include', found ${describeToken(file)}`);
    if (file.text !== 'qelib1.inc' && file.text !== 'stdgates.inc') {
      throw new QasmError(
        file,
        `cannot include "${file.text}": only "qelib1.inc" and "stdgates.inc" are built in; paste the file's gate definitions into the program instead`,
      );
    }
    this.ts.next();
    this.ts.expect(';', 'after the include');
  }

  /** `qreg q[n];` / `creg c[n];` (also accepted in OpenQASM 3). */
  private parseLegacyRegister(): void {
    const keyword = this.ts.next();
    const name = this.ts.expectId('a register name');
    this.ts.expect('[', `after the register name (${keyword.text} ${name.text}[size];)`);
    const size = this.integerExpression('the register size', 1);
    this.ts.expect(']', 'after the register size');
    this.ts.expect(';', 'after the register declaration');
    this.addRegister(keyword.text === 'qreg', name, size);
  }

  /** `qubit[n] q;`, `qubit q;`, `bit[n] c;`, `bit c;`, `bit[n] c = measure q;`. */
  private parseRegister(): void {
    const keyword = this.ts.next();
    let size = 1;
    if (this.ts.accept('[')) {
      size = this.integerExpression('the register size', 1);
      this.ts.expect(']', 'after the register size');
    }
    const name = this.ts.expectId('a register name');
    this.addRegister(keyword.text === 'qubit', name, size);
    if (keyword.text === 'bit' && this.ts.accept('=')) {
      this.parseMeasureInto({ kind: 'whole', at: name });
      return;
    }
    this.ts.expect(';', 'after the register declaration');
  }

  private addRegister(quantum: boolean, name: Token, size: number): void {
    this.declare(name, quantum ? 'a qubit register' : 'a bit register');
    if (quantum) this.registers.declareQubits(name, size);
    else this.registers.declareBits(name, size);
  }

  /** `input float[64] theta;` and friends: the value comes from the caller's params. */
  private parseInput(): void {
    this.ts.next();
    const type = this.parseClassicalType();
    const name = this.ts.expectId('an input name');
    this.ts.expect(';', 'after the input declaration');
    this.declare(name, 'an input');
    this.inputs.push(name);
    let value = type.text === 'int' || type.text === 'uint' ? 1 : 0.7390851332151607;
    if (this.inputMode.kind === 'bind') {
      const given: unknown = Object.hasOwn(this.inputMode.params, name.text)
        ? this.inputMode.params[name.text]
        : undefined;
      if (given === undefined) {
        throw new QasmError(
          name,
          `input '${name.text}' has no value; pass params: { ${name.text}: ... } when running the circuit`,
        );
      }
      if (typeof given !== 'number' || !Number.isFinite(given)) {
        throw new QasmError(name, `params.${name.text} must be a finite number, got ${String(given)}`);
      }
      if ((type.text === 'int' || type.text === 'uint') && !Number.isInteger(given)) {
        throw new QasmError(
          name,
          `input '${name.text}' is declared ${type.text}, but params.${name.text} is ${given}; pass an integer`,
        );
      }
      value = given;
    }
    this.constants.set(name.text, value);
  }

  /** `const float x = expr;` or `float x = expr;` (a classical value that never changes). */
  private parseClassical(isConst: boolean): void {
    const type = this.parseClassicalType();
    const name = this.ts.expectId('a variable name');
    if (!this.ts.at('=')) {
      this.ts.fail(
        `classical variable '${name.text}' needs an initial value: Orrery supports constant classical values only (const ${type.text} ${name.text} = ...; or input ${type.text} ${name.text};)`,
      );
    }
    this.ts.next();
    const expr = parseExpression(this.ts, this.globalSyntax());
    this.ts.expect(';', `after the ${isConst ? 'constant' : 'variable'} declaration`);
    this.declare(name, isConst ? 'a constant' : 'a variable');
    const value = checkedValue(expr, evaluate(expr, this.lookupConstant));
    this.constants.set(name.text, type.text === 'int' || type.text === 'uint' ? Math.trunc(value) : value);
  }

  private parseClassicalType(): Token {
    const type = this.ts.peek();
    if (type.kind !== 'id' || !CLASSICAL_TYPES.has(type.text)) {
      this.ts.fail(`expected a classical type (float, angle, int or uint), found ${describeToken(type)}`);
    }
    this.ts.next();
    if (this.ts.accept('[')) {
      this.integerExpression('the type width', 1);
      this.ts.expect(']', 'after the type width');
    }
    return type;
  }

  /** `measure q -> c;` (OpenQASM 2 style, also valid in 3). */
  private parseMeasureArrow(): void {
    const keyword = this.ts.next();
    const source = this.registers.resolveQubits(this.parseOperand());
    if (!this.ts.at('->')) {
      this.ts.fail(
        `expected '->' after the measured qubits: 'measure' needs a destination (${keyword.text} q[0] -> c[0]; or c[0] = measure q[0];)`,
      );
    }
    this.ts.next();
    const target = this.registers.resolveBits(this.parseOperand());
    this.ts.expect(';', 'after the measurement');
    this.addMeasurements(source, target);
  }

  /** `c = measure q;` / `c[0] = measure q[0];`. */
  private parseAssignment(): void {
    const target = this.parseOperand();
    this.ts.expect('=', 'after the assigned bits');
    this.parseMeasureInto(target);
  }

  /** After `target =`: `measure q;`. */
  private parseMeasureInto(targetOperand: Operand): void {
    if (!this.ts.at('measure')) {
      this.ts.fail(
        `only a measurement can be assigned to a bit ('${targetOperand.at.text} = measure q;'); classical computation is not supported, found ${describeToken(this.ts.peek())}`,
      );
    }
    const target = this.registers.resolveBits(targetOperand);
    this.ts.next();
    const source = this.registers.resolveQubits(this.parseOperand());
    this.ts.expect(';', 'after the measurement');
    this.addMeasurements(source, target);
  }

  private addMeasurements(source: ResolvedOperand, target: ResolvedOperand): void {
    if (source.indices.length !== target.indices.length || source.single !== target.single) {
      throw new QasmError(
        target.at,
        `measurement needs as many bits as qubits: ${plural(source.indices.length, 'qubit')} measured into ${plural(target.indices.length, 'bit')}`,
      );
    }
    for (let i = 0; i < source.indices.length; i++) {
      this.ops.push({ kind: 'measure', qubit: source.indices[i]!, clbit: target.indices[i]! });
    }
  }

  private parseReset(): void {
    this.ts.next();
    const operands = this.parseOperandList();
    this.ts.expect(';', 'after the reset operands');
    for (const operand of operands) {
      for (const qubit of this.registers.resolveQubits(operand).indices) this.ops.push({ kind: 'reset', qubit });
    }
  }

  private parseBarrier(): void {
    this.ts.next();
    const operands = this.ts.at(';') ? [] : this.parseOperandList();
    this.ts.expect(';', 'after the barrier operands');
    const qubits =
      operands.length === 0
        ? this.registers.allQubits()
        : [...new Set(operands.flatMap((o) => this.registers.resolveQubits(o).indices))];
    this.ops.push({ kind: 'barrier', qubits });
  }

  private parseGateCall(): void {
    const modifiers = this.parseModifiers();
    const name = this.ts.expectId('a gate name or statement');
    const target = this.resolveGate(name);
    const paramExprs = this.parseParameterList(this.globalSyntax());
    const operands = this.ts.at(';') ? [] : this.parseOperandList();
    this.ts.expect(';', 'after the gate operands');
    this.checkArity(name, target, modifiers, paramExprs.length, operands.length);
    const params = paramExprs.map((e) => checkedValue(e, evaluate(e, this.lookupConstant)));
    const resolved = operands.map((o) => this.registers.resolveQubits(o));
    let width = 1;
    for (const operand of resolved) {
      if (operand.single) continue;
      if (width !== 1 && operand.indices.length !== width) {
        throw new QasmError(
          operand.at,
          `cannot broadcast '${name.text}' over registers of different sizes (${width} and ${operand.indices.length})`,
        );
      }
      width = operand.indices.length;
    }
    for (let i = 0; i < width; i++) {
      const qubits = resolved.map((o) => (o.single ? o.indices[0]! : o.indices[i]!));
      for (let a = 1; a < qubits.length; a++) {
        for (let b = 0; b < a; b++) {
          if (qubits[a] === qubits[b]) {
            throw new QasmError(
              resolved[a]!.at,
              `qubit ${this.registers.describeQubit(qubits[a]!)} is used twice in one call of '${name.text}'; a gate's qubits must be distinct`,
            );
          }
        }
      }
      if (modifiers.length === 0 && target.kind === 'builtin' && target.gate.name !== 'gphase') {
        target.gate.expand(params, qubits, this.ops as ExpandedOp[]);
        continue;
      }
      this.scratch.length = 0;
      expandCall(target, modifiers, params, qubits, name, this.scratch);
      for (const op of this.scratch) if (op.kind !== 'gphase') this.ops.push(op);
    }
  }

  private parseOperandList(): Operand[] {
    const operands = [this.parseOperand()];
    while (this.ts.accept(',')) operands.push(this.parseOperand());
    return operands;
  }

  /** `$n`, `r`, `r[i]`, `r[a:b]`, `r[a:step:b]`. */
  private parseOperand(): Operand {
    const at = this.ts.peek();
    if (at.kind === 'hwqubit') {
      this.ts.next();
      return { kind: 'hardware', index: at.value, at };
    }
    this.ts.expectId('a qubit or bit operand (r, r[i] or $n)');
    if (!this.ts.accept('[')) return { kind: 'whole', at };
    const indexAt = this.ts.peek();
    const first = this.ts.at(':') ? undefined : this.integerExpression('an index', Number.NEGATIVE_INFINITY);
    if (!this.ts.accept(':')) {
      this.ts.expect(']', 'after the index');
      if (first === undefined) throw new QasmError(indexAt, 'expected an index');
      return { kind: 'index', at, index: first, indexAt };
    }
    let second =
      this.ts.at(']') || this.ts.at(':')
        ? undefined
        : this.integerExpression('a range bound', Number.NEGATIVE_INFINITY);
    let step = 1;
    if (this.ts.accept(':')) {
      step = second ?? 1;
      second = this.ts.at(']') ? undefined : this.integerExpression('a range bound', Number.NEGATIVE_INFINITY);
    }
    this.ts.expect(']', 'after the range');
    return { kind: 'range', at, start: first, step, end: second, indexAt };
  }

  /** Parses an expression that must be an integer of at least `min` (sizes, indices, counts). */
  integerExpression(what: string, min: number): number {
    const at = this.ts.peek();
    const value = evaluate(parseExpression(this.ts, this.globalSyntax()), this.lookupConstant);
    if (!Number.isInteger(value) || value < min) {
      throw new QasmError(
        at,
        `${what} must be an integer${min > Number.NEGATIVE_INFINITY ? ` of at least ${min}` : ''}, got ${value}`,
      );
    }
    return value;
  }

  private checkUnusedParams(): void {
    if (this.inputMode.kind !== 'bind') return;
    const declared = new Set(this.inputs.map((t) => t.text));
    for (const key of Object.keys(this.inputMode.params)) {
      if (!declared.has(key)) {
        const list = declared.size > 0 ? `its inputs are ${[...declared].join(', ')}` : 'it declares no inputs';
        throw new QasmError(
          { line: 1, column: 1 },
          `unknown parameter '${key}': the program has no 'input' named ${key} (${list}); remove it from params or declare 'input float ${key};'`,
        );
      }
    }
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
