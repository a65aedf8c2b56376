/**
 * The device catalogue of the emulated Braket: GetDevice/SearchDevices records with
 * deviceCapabilities documents shaped like the real ones (braket.device_schema.*: service
 * shotsRange and execution windows, the OpenQASM action, paradigm qubitCount and connectivity).
 */

/** A device the emulator offers. */
export interface EmulatedDevice {
  readonly arn: string;
  readonly name: string;
  readonly provider: string;
  readonly type: 'QPU' | 'SIMULATOR';
  status: 'ONLINE' | 'OFFLINE' | 'RETIRED';
  readonly qubitCount: number;
  readonly shotsRange: readonly [number, number];
  /** Action names it accepts, e.g. `braket.ir.openqasm.program`, `braket.ir.ahs.program`. */
  readonly actions: readonly string[];
}

const OPENQASM = 'braket.ir.openqasm.program';
const GATES = [
  'ccnot',
  'cnot',
  'cphaseshift',
  'cswap',
  'cy',
  'cz',
  'h',
  'i',
  'phaseshift',
  'rx',
  'ry',
  'rz',
  's',
  'si',
  'swap',
  't',
  'ti',
  'v',
  'vi',
  'x',
  'y',
  'z',
  'xx',
  'yy',
  'zz',
  'ecr',
  'U',
];

/** Devices every emulator starts with (ARNs and sizes of the real ones). */
export function defaultDevices(): EmulatedDevice[] {
  return [
    {
      arn: 'arn:aws:braket:::device/quantum-simulator/amazon/sv1',
      name: 'SV1',
      provider: 'Amazon Braket',
      type: 'SIMULATOR',
      status: 'ONLINE',
      qubitCount: 34,
      shotsRange: [0, 100000],
      actions: [OPENQASM],
    },
    {
      arn: 'arn:aws:braket:::device/quantum-simulator/amazon/dm1',
      name: 'dm1',
      provider: 'Amazon Braket',
      type: 'SIMULATOR',
      status: 'ONLINE',
      qubitCount: 17,
      shotsRange: [0, 100000],
      actions: [OPENQASM],
    },
    {
      arn: 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1',
      name: 'Forte 1',
      provider: 'IonQ',
      type: 'QPU',
      status: 'ONLINE',
      qubitCount: 36,
      shotsRange: [1, 5000],
      actions: [OPENQASM],
    },
    {
      arn: 'arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3',
      name: 'Ankaa-3',
      provider: 'Rigetti',
      type: 'QPU',
      status: 'ONLINE',
      qubitCount: 84,
      shotsRange: [10, 50000],
      actions: [OPENQASM],
    },
    {
      arn: 'arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet',
      name: 'Garnet',
      provider: 'IQM',
      type: 'QPU',
      status: 'ONLINE',
      qubitCount: 20,
      shotsRange: [1, 20000],
      actions: [OPENQASM],
    },
    {
      arn: 'arn:aws:braket:us-east-1::device/qpu/quera/Aquila',
      name: 'Aquila',
      provider: 'QuEra',
      type: 'QPU',
      status: 'ONLINE',
      qubitCount: 256,
      shotsRange: [1, 1000],
      actions: ['braket.ir.ahs.program'],
    },
  ];
}

/** The region a device is reached through (empty: simulators, reachable from every Braket region). */
export function deviceRegion(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/** The deviceCapabilities document of a device, as GetDevice returns it (a JSON string). */
export function capabilitiesOf(d: EmulatedDevice): string {
  const simulator = d.type === 'SIMULATOR';
  const action: Record<string, unknown> = {};
  for (const a of d.actions) {
    action[a] =
      a === OPENQASM
        ? {
            version: ['1'],
            actionType: OPENQASM,
            supportedOperations: GATES,
            supportedResultTypes: simulator ? [{ name: 'Probability', minShots: 0, maxShots: d.shotsRange[1] }] : [],
          }
        : { version: ['1'], actionType: a };
  }
  return JSON.stringify({
    braketSchemaHeader: simulator
      ? { name: 'braket.device_schema.simulators.gate_model_simulator_device_capabilities', version: '1' }
      : {
          name: `braket.device_schema.${d.provider.toLowerCase()}.${d.provider.toLowerCase()}_device_capabilities`,
          version: '1',
        },
    service: {
      braketSchemaHeader: { name: 'braket.device_schema.device_service_properties', version: '1' },
      executionWindows: [{ executionDay: 'Everyday', windowStartHour: '00:00:00', windowEndHour: '23:59:59' }],
      shotsRange: d.shotsRange,
      deviceDocumentation: { summary: `${d.provider} ${d.name} (emulated)` },
      updatedAt: '2025-01-01T00:00:00+00:00',
    },
    action,
    deviceParameters: {},
    paradigm: {
      braketSchemaHeader: simulator
        ? { name: 'braket.device_schema.simulators.gate_model_simulator_paradigm_properties', version: '1' }
        : { name: 'braket.device_schema.gate_model_qpu_paradigm_properties', version: '1' },
      qubitCount: d.qubitCount,
      ...(simulator
        ? {}
        : { nativeGateSet: ['rx', 'rz', 'cz'], connectivity: { fullyConnected: true, connectivityGraph: {} } }),
    },
  });
}
