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
  /** Limits of its `braket.ir.openqasm.program_set` action (default {@link PROGRAM_SET_LIMITS}). */
  readonly programSet?: { readonly maximumExecutables: number; readonly maximumTotalShots: number };
}

const OPENQASM = 'braket.ir.openqasm.program';
/** Program sets: listed by the gate-based QPUs (and the local simulator), not by SV1/DM1. */
export const PROGRAM_SET = 'braket.ir.openqasm.program_set';
/**
 * Program-set limits the emulated QPUs list: the values amazon-braket-default-simulator's local
 * simulator states in its action properties (100 executables, 200,000 shots in all).
 */
export const PROGRAM_SET_LIMITS = { maximumExecutables: 100, maximumTotalShots: 200_000 } as const;
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
      actions: [OPENQASM, PROGRAM_SET],
    },
    {
      arn: 'arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3',
      name: 'Ankaa-3',
      provider: 'Rigetti',
      type: 'QPU',
      status: 'ONLINE',
      qubitCount: 84,
      shotsRange: [10, 50000],
      actions: [OPENQASM, PROGRAM_SET],
    },
    {
      arn: 'arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet',
      name: 'Garnet',
      provider: 'IQM',
      type: 'QPU',
      status: 'ONLINE',
      qubitCount: 20,
      shotsRange: [1, 20000],
      actions: [OPENQASM, PROGRAM_SET],
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
        : a === PROGRAM_SET
          ? { version: ['1'], actionType: a, ...(d.programSet ?? PROGRAM_SET_LIMITS) }
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
    deviceParameters: parametersSchemaOf(d),
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

/**
 * The schema header of a gate-model device's parameters (amazon-braket-schemas: the simulators'
 * gate_model_simulator_device_parameters, else the provider's `<provider>_device_parameters`),
 * or undefined for devices that take no gate-model programs.
 */
export function parametersHeaderOf(d: EmulatedDevice): string | undefined {
  if (!d.actions.includes(OPENQASM)) return undefined;
  if (d.type === 'SIMULATOR') return 'braket.device_schema.simulators.gate_model_simulator_device_parameters';
  const p = d.provider.toLowerCase();
  return `braket.device_schema.${p}.${p}_device_parameters`;
}

/** Whether the device's parameters take `errorMitigation` (IonQ's debiasing, on its QPUs only). */
export function takesErrorMitigation(d: EmulatedDevice): boolean {
  return d.type === 'QPU' && d.provider === 'IonQ';
}

/** The `deviceParameters` JSON schema of the capabilities, shaped as pydantic writes the schemas' classes. */
function parametersSchemaOf(d: EmulatedDevice): unknown {
  const name = parametersHeaderOf(d);
  if (!name) return {};
  return {
    title: name.split('.').at(-1),
    type: 'object',
    properties: {
      braketSchemaHeader: { title: 'Braketschemaheader', const: { name, version: '1' } },
      paradigmParameters: { $ref: '#/definitions/GateModelParameters' },
      ...(takesErrorMitigation(d) && {
        errorMitigation: {
          title: 'Errormitigation',
          type: 'array',
          items: { $ref: '#/definitions/ErrorMitigationScheme' },
        },
      }),
    },
    required: ['paradigmParameters'],
    definitions: {
      GateModelParameters: {
        type: 'object',
        properties: {
          braketSchemaHeader: { const: { name: 'braket.device_schema.gate_model_parameters', version: '1' } },
          qubitCount: { type: 'integer', minimum: 0 },
          disableQubitRewiring: { type: 'boolean', default: false },
        },
        required: ['qubitCount'],
      },
      ...(takesErrorMitigation(d) && {
        ErrorMitigationScheme: { type: 'object', properties: { type: { type: 'string' } }, required: ['type'] },
      }),
    },
  };
}
