/**
 * What the real service does to a circuit that does not match the device (it stopped accepting
 * such circuits in March 2024): the job fails, naming the first instruction the device cannot
 * run. Checked on the parsed circuit: every gate must be native, every two-qubit gate must sit
 * on a coupled pair in the listed direction, every qubit must exist.
 */
import type { Circuit } from '../../../backends/quantum/circuit.ts';
import type { FakeDevice } from './fake-devices.ts';

/** Error code the service gives circuits that are not ISA circuits of the target. */
export const NON_ISA_REASON_CODE = 1517;

/** The failure reason for the first instruction `device` cannot run, or undefined when the circuit is an ISA circuit. */
export function isaViolation(circuit: Circuit, device: FakeDevice): string | undefined {
  const coupled = new Set(device.couplingMap.map(([a, b]) => `${a},${b}`));
  const unsupported = (name: string, qubits: readonly number[]) =>
    `Error code ${NON_ISA_REASON_CODE}; The instruction ${name} on qubits (${qubits.join(', ')}${qubits.length === 1 ? ',' : ''}) is not supported by the target device ${device.name}. Circuits that do not match the target hardware definition are not supported. See https://quantum.cloud.ibm.com/docs/guides/transpile for how to transform circuits.`;
  if (circuit.numQubits > device.nQubits)
    return `Error code ${NON_ISA_REASON_CODE}; The circuit uses ${circuit.numQubits} qubits but ${device.name} has ${device.nQubits}.`;
  for (const op of circuit.ops) {
    if (op.kind === 'measure' || op.kind === 'reset') {
      if (op.qubit >= device.nQubits) return unsupported(op.kind, [op.qubit]);
      continue;
    }
    if (op.kind === 'barrier') continue;
    if (!device.basisGates.includes(op.name)) return unsupported(op.name, op.qubits);
    if (op.qubits.some((q) => q >= device.nQubits)) return unsupported(op.name, op.qubits);
    if (op.qubits.length === 2 && !coupled.has(`${op.qubits[0]},${op.qubits[1]}`))
      return unsupported(op.name, op.qubits);
    if (op.qubits.length > 2) return unsupported(op.name, op.qubits);
  }
  return undefined;
}
