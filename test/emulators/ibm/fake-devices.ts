/**
 * Fake IBM devices for the emulator, with configurations shaped like the real ones: a 5-qubit
 * line with CX (Falcon r4T, like ibmq_manila), a 7-qubit H with directed ECR (Eagle-style gates
 * on a Nairobi-shaped chip) and a 27-qubit heavy-hex with CZ (Heron gates on the Falcon 27 map).
 */

/** One emulated device: its configuration and the service-side state tests can change. */
export interface FakeDevice {
  readonly name: string;
  readonly nQubits: number;
  readonly basisGates: readonly string[];
  /** Directed pairs [control, target]; both directions are listed where the native gate is symmetric. */
  readonly couplingMap: readonly (readonly [number, number])[];
  /** Jobs of other users waiting on the device. */
  pendingJobs: number;
  status: 'online' | 'paused' | 'offline';
  readonly processorFamily: string;
}

function bothWays(edges: readonly (readonly [number, number])[]): [number, number][] {
  return edges.flatMap(
    ([a, b]) =>
      [
        [a, b],
        [b, a],
      ] as [number, number][],
  );
}

const FALCON_27_EDGES: [number, number][] = [
  [0, 1],
  [1, 2],
  [1, 4],
  [2, 3],
  [3, 5],
  [4, 7],
  [5, 8],
  [6, 7],
  [7, 10],
  [8, 9],
  [8, 11],
  [10, 12],
  [11, 14],
  [12, 13],
  [12, 15],
  [13, 14],
  [14, 16],
  [15, 18],
  [16, 19],
  [17, 18],
  [18, 21],
  [19, 20],
  [19, 22],
  [21, 23],
  [22, 25],
  [23, 24],
  [24, 25],
  [25, 26],
];

/** A fresh set of the default fake devices (each emulator gets its own, so tests can change them). */
export function defaultFakeDevices(): FakeDevice[] {
  return [
    {
      name: 'ibm_fake_manila',
      nQubits: 5,
      basisGates: ['cx', 'id', 'rz', 'sx', 'x'],
      couplingMap: bothWays([
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 4],
      ]),
      pendingJobs: 12,
      status: 'online',
      processorFamily: 'Falcon',
    },
    {
      name: 'ibm_fake_nairobi',
      nQubits: 7,
      basisGates: ['ecr', 'id', 'rz', 'sx', 'x'],
      couplingMap: [
        [0, 1],
        [2, 1],
        [1, 3],
        [3, 5],
        [4, 5],
        [6, 5],
      ],
      pendingJobs: 3,
      status: 'online',
      processorFamily: 'Eagle',
    },
    {
      name: 'ibm_fake_kolkata',
      nQubits: 27,
      basisGates: ['cz', 'id', 'rz', 'sx', 'x'],
      couplingMap: bothWays(FALCON_27_EDGES),
      pendingJobs: 40,
      status: 'online',
      processorFamily: 'Heron',
    },
  ];
}

/** `GET /v1/backends/{name}/configuration` of a fake device. */
export function configurationOf(d: FakeDevice): Record<string, unknown> {
  return {
    backend_name: d.name,
    backend_version: '1.0.0',
    n_qubits: d.nQubits,
    basis_gates: [...d.basisGates],
    coupling_map: d.couplingMap.map((p) => [...p]),
    gates: d.basisGates.map((g) => ({
      name: g,
      parameters: g === 'rz' ? ['theta'] : [],
      qasm_def: g,
      coupling_map: g === 'cx' || g === 'ecr' || g === 'cz' ? d.couplingMap.map((p) => [...p]) : undefined,
    })),
    local: false,
    simulator: false,
    conditional: false,
    memory: true,
    max_shots: 100_000,
    max_experiments: 300,
    online_date: '2024-01-01T00:00:00Z',
    processor_type: { family: d.processorFamily, revision: '1.0' },
  };
}
