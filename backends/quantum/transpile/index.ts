/**
 * The transpiler: makes an ordinary circuit runnable on a real device by choosing a layout,
 * routing with SWAPs onto the coupling map, translating every gate into the native two-qubit
 * gate (in its native direction) and synthesising one-qubit runs into the device basis.
 *
 * Pipeline: unroll 3-qubit gates → initial layout (layout.ts) → routing (routing.ts) →
 * basis translation (basis-translation.ts) → one-qubit synthesis (one-qubit-synthesis.ts).
 */
import type { Circuit, Operation } from '../circuit.ts';
import { translateToNative, unrollThreeQubitGates } from './basis-translation.ts';
import { chooseInitialLayout } from './layout.ts';
import { synthesizeOneQubitRuns } from './one-qubit-synthesis.ts';
import { route } from './routing.ts';
import { UnsupportedTargetError } from './errors.ts';
import { CouplingGraph, resolveBasis, type DeviceTarget } from './target.ts';

export { TranspileError, UnsupportedTargetError } from './errors.ts';
export { resolveBasis, targetFromIbmConfiguration, type DeviceTarget } from './target.ts';
export { synthesizeOneQubit } from './one-qubit-synthesis.ts';

/** Name of the single register of the transpiled circuit; its index i is physical qubit i. */
export const PHYSICAL_QREG_NAME = 'q';

/** Options of {@link transpile}. */
export interface TranspileOptions {
  /** Seeds routing tie-breaks; the same seed gives the same output. Default 0. */
  readonly seed?: number;
  /**
   * Writes every one-qubit run in the one general form rz·sx·rz·sx·rz (needs an rz+sx basis),
   * even where a shorter form exists: circuits that differ only in their angles then give the
   * same gate list, differing only in rz angles (sweep-pub.ts builds parameterised circuits so).
   */
  readonly generalOneQubitForm?: boolean;
}

/** A circuit rewritten for a device. */
export interface TranspileResult {
  /** On all device qubits (one register, index = physical qubit), same classical registers as the input. */
  readonly circuit: Circuit;
  /** Virtual qubit i starts on physical qubit initialLayout[i]. */
  readonly initialLayout: number[];
  /** Virtual qubit i ends on physical qubit finalLayout[i] (after the inserted SWAPs). */
  readonly finalLayout: number[];
  /** SWAPs the router inserted. */
  readonly swaps: number;
  /** Depth of the output circuit (barriers not counted). */
  readonly depth: number;
}

/** Longest chain of operations that share a qubit or a classical bit; barriers are not counted. */
export function circuitDepth(circuit: Circuit): number {
  const qubitLevel = new Array<number>(circuit.numQubits).fill(0);
  const clbitLevel = new Array<number>(circuit.numClbits).fill(0);
  let depth = 0;
  for (const op of circuit.ops) {
    let level: number;
    switch (op.kind) {
      case 'barrier':
        continue;
      case 'measure':
        level = Math.max(qubitLevel[op.qubit]!, clbitLevel[op.clbit]!) + 1;
        qubitLevel[op.qubit] = level;
        clbitLevel[op.clbit] = level;
        break;
      case 'reset':
        level = qubitLevel[op.qubit]! + 1;
        qubitLevel[op.qubit] = level;
        break;
      case 'gate':
        level = Math.max(...op.qubits.map((q) => qubitLevel[q]!)) + 1;
        for (const q of op.qubits) qubitLevel[q] = level;
        break;
    }
    depth = Math.max(depth, level);
  }
  return depth;
}

/**
 * Transpiles `circuit` for `target`. Counts of the result (over the original classical bits)
 * equal those of the input. Throws TranspileError when the circuit has more qubits than the
 * device, UnsupportedTargetError when the basis lacks a gate the transpiler can target.
 */
export function transpile(circuit: Circuit, target: DeviceTarget, options: TranspileOptions = {}): TranspileResult {
  const basis = resolveBasis(target.basisGates);
  if (options.generalOneQubitForm && (basis.oneQubit.kind !== 'zsx' || basis.oneQubit.z !== 'rz'))
    throw new UnsupportedTargetError(
      target.basisGates,
      'a circuit with free parameters needs a one-qubit basis of rz and sx (every IBM Quantum device has it)',
    );
  const graph = new CouplingGraph(target);
  const ops: Operation[] = unrollThreeQubitGates(circuit.ops).filter((op) => !(op.kind === 'gate' && op.name === 'id'));
  const initialLayout = chooseInitialLayout(ops, circuit.numQubits, graph);
  const routed = route(ops, initialLayout, graph, options.seed ?? 0);
  const native = translateToNative(routed.ops, graph, basis.twoQubit);
  const outOps = synthesizeOneQubitRuns(native, target.numQubits, basis.oneQubit, options.generalOneQubitForm);
  const out: Circuit = {
    numQubits: target.numQubits,
    numClbits: circuit.numClbits,
    qregs: [{ name: PHYSICAL_QREG_NAME, size: target.numQubits, offset: 0 }],
    cregs: circuit.cregs,
    ops: outOps,
  };
  return {
    circuit: out,
    initialLayout,
    finalLayout: routed.finalLayout,
    swaps: routed.swaps,
    depth: circuitDepth(out),
  };
}
