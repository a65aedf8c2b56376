/**
 * Gate calls with modifiers and user `gate` definitions, expanded into IR operations. A user
 * gate is expanded inline every time it is called (its body holds parsed, name-checked calls).
 */
import type { Token } from './lexer.ts';
import { evaluate, firstToken, type Expr } from './expressions.ts';
import { CONTROLLABLE_GATES, controlOp, invertOp, type BuiltinGate, type ExpandedOp } from './gate-library.ts';
import { QasmError } from './qasm-error.ts';

/** A `gate` definition from the program. */
export interface UserGate {
  readonly kind: 'user';
  readonly name: string;
  readonly paramNames: readonly string[];
  readonly qubitNames: readonly string[];
  readonly body: readonly BodyStatement[];
  /** The program's `const` and `input` values, which bodies may read (names were checked when the body was read). */
  readonly constants: ReadonlyMap<string, number>;
}

/** An `opaque` declaration: known by name and arity, but with nothing to run. */
export interface OpaqueGate {
  readonly kind: 'opaque';
  readonly name: string;
  readonly params: number;
  readonly qubits: number;
}

/** What a call resolves to. */
export type GateTarget = { readonly kind: 'builtin'; readonly gate: BuiltinGate } | UserGate | OpaqueGate;

/**
 * A modifier in front of a gate, as written (applied to the gate right of it):
 * - `ctrl`: `count` control qubits, taken from the front of the operands;
 * - `inv`: the inverse;
 * - `pow`: an integer power (negative means the inverse repeated).
 */
export type Modifier =
  | { readonly kind: 'ctrl'; readonly count: number; readonly at: Token }
  | { readonly kind: 'inv'; readonly at: Token }
  | { readonly kind: 'pow'; readonly exponent: number; readonly at: Token };

/** One statement of a gate body; `qubits` index the definition's qubit arguments. */
export type BodyStatement =
  | {
      readonly kind: 'call';
      readonly at: Token;
      readonly target: GateTarget;
      readonly modifiers: readonly Modifier[];
      readonly params: readonly Expr[];
      readonly qubits: readonly number[];
    }
  | { readonly kind: 'barrier'; readonly qubits: readonly number[] };

/** Number of parameters and qubits a target takes before modifiers. */
export function targetArity(target: GateTarget): { readonly params: number; readonly qubits: number } {
  switch (target.kind) {
    case 'builtin':
      return target.gate;
    case 'user':
      return { params: target.paramNames.length, qubits: target.qubitNames.length };
    case 'opaque':
      return target;
  }
}

/** Number of qubits the modifiers add (their control qubits). */
export function controlCount(modifiers: readonly Modifier[]): number {
  let count = 0;
  for (const m of modifiers) if (m.kind === 'ctrl') count += m.count;
  return count;
}

/**
 * Expands a call with its modifiers into `out`. `at` is the call's gate-name token, where
 * errors found during expansion point.
 */
export function expandCall(
  target: GateTarget,
  modifiers: readonly Modifier[],
  params: readonly number[],
  qubits: readonly number[],
  at: Token,
  out: ExpandedOp[],
): void {
  applyModifiers(target, modifiers, 0, params, qubits, at, out);
}

function applyModifiers(
  target: GateTarget,
  modifiers: readonly Modifier[],
  index: number,
  params: readonly number[],
  qubits: readonly number[],
  at: Token,
  out: ExpandedOp[],
): void {
  if (index === modifiers.length) {
    expandTarget(target, params, qubits, at, out);
    return;
  }
  const modifier = modifiers[index]!;
  const inner: ExpandedOp[] = [];
  switch (modifier.kind) {
    case 'ctrl': {
      applyModifiers(target, modifiers, index + 1, params, qubits.slice(modifier.count), at, inner);
      for (const op of inner) {
        let current: ExpandedOp | null = op;
        for (let c = modifier.count - 1; c >= 0 && current !== null; c--) {
          const controlled = controlOp(current, qubits[c]!);
          if (controlled !== null && 'uncontrollable' in controlled) {
            const targetName = target.kind === 'builtin' ? target.gate.name : target.name;
            throw new QasmError(
              modifier.at,
              `ctrl @ cannot control '${controlled.uncontrollable}'${targetName === controlled.uncontrollable ? '' : ` (from the expansion of '${targetName}')`}: its controlled form is not an Orrery IR gate. Controllable gates: ${CONTROLLABLE_GATES.join(', ')}; decompose the gate into these first`,
            );
          }
          current = controlled;
        }
        if (current !== null) out.push(current);
      }
      return;
    }
    case 'inv': {
      applyModifiers(target, modifiers, index + 1, params, qubits, at, inner);
      for (let i = inner.length - 1; i >= 0; i--) out.push(invertOp(inner[i]!));
      return;
    }
    case 'pow': {
      applyModifiers(target, modifiers, index + 1, params, qubits, at, inner);
      const once = modifier.exponent >= 0 ? inner : inner.map(invertOp).reverse();
      for (let r = 0; r < Math.abs(modifier.exponent); r++) out.push(...once);
      return;
    }
  }
}

function expandTarget(
  target: GateTarget,
  params: readonly number[],
  qubits: readonly number[],
  at: Token,
  out: ExpandedOp[],
): void {
  switch (target.kind) {
    case 'builtin':
      target.gate.expand(params, qubits, out);
      return;
    case 'opaque':
      throw new QasmError(
        at,
        `gate '${target.name}' is declared opaque, so Orrery has no definition to run; replace the opaque declaration with 'gate ${target.name} ... { ... }'`,
      );
    case 'user': {
      const values = new Map<string, number>();
      target.paramNames.forEach((name, i) => {
        values.set(name, params[i]!);
      });
      const lookup = (name: string): number | undefined => values.get(name) ?? target.constants.get(name);
      for (const statement of target.body) {
        if (statement.kind === 'barrier') {
          out.push({ kind: 'barrier', qubits: statement.qubits.map((q) => qubits[q]!) });
          continue;
        }
        const args = statement.params.map((expr) => checkedValue(expr, evaluate(expr, lookup)));
        expandCall(
          statement.target,
          statement.modifiers,
          args,
          statement.qubits.map((q) => qubits[q]!),
          statement.at,
          out,
        );
      }
    }
  }
}

/** Fails on a parameter that evaluated to NaN or an infinity; returns it otherwise. */
export function checkedValue(expr: Expr, value: number): number {
  if (!Number.isFinite(value)) {
    throw new QasmError(
      firstToken(expr),
      `expression evaluates to ${value}; gate parameters must be finite numbers (check divisions by zero and function domains)`,
    );
  }
  return value;
}
