/** The errors the transpiler throws: one class per condition, data in readonly fields. */

/**
 * The circuit needs more qubits than the device (or its largest connected group of qubits) offers.
 * Fatal for this device: pick a larger device or shrink the circuit.
 */
export class TranspileError extends Error {
  override readonly name = 'TranspileError';
  /** Qubits the circuit declares. */
  readonly circuitQubits: number;
  /** Qubits the device can give one connected circuit. */
  readonly deviceQubits: number;

  constructor(circuitQubits: number, deviceQubits: number, detail = '') {
    super(
      `circuit uses ${circuitQubits} qubits; device has ${deviceQubits}${detail}: ` +
        'choose a device with more qubits or reduce the circuit',
    );
    this.circuitQubits = circuitQubits;
    this.deviceQubits = deviceQubits;
  }
}

/**
 * The device's basis gates lack what the transpiler needs: a native two-qubit gate from
 * {cx, ecr, cz} or a one-qubit basis it can synthesise into (u; rz or p with sx, ry or rx).
 */
export class UnsupportedTargetError extends Error {
  override readonly name = 'UnsupportedTargetError';
  /** The device's basis gates as given. */
  readonly basisGates: readonly string[];

  constructor(basisGates: readonly string[], missing: string) {
    super(
      `cannot transpile for basis gates [${basisGates.join(', ')}]: ${missing}; ` +
        'supported are a two-qubit gate from {cx, ecr, cz} and a one-qubit basis of u, or rz/p with sx, ry or rx',
    );
    this.basisGates = basisGates;
  }
}
