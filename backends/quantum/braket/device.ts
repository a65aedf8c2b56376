/**
 * What GetDevice says about a Braket device, and the checks a circuit must pass before it is
 * sent there: the device is online, takes OpenQASM programs, has enough qubits, accepts the shots.
 */
import type { GetDeviceCommandOutput } from '@aws-sdk/client-braket';
import { BackendError } from '../../../orchestrator/core/errors.ts';

/** The action name of OpenQASM 3 programs on Braket. */
export const OPENQASM_ACTION = 'braket.ir.openqasm.program';
/** The action name of OpenQASM program sets (many programs in one quantum task). */
export const PROGRAM_SET_ACTION = 'braket.ir.openqasm.program_set';

/**
 * A device's program-set limits: its capabilities' `action["braket.ir.openqasm.program_set"]`
 * (amazon-braket-schemas OpenQASMProgramSetDeviceActionProperties).
 */
export interface ProgramSetLimits {
  /** Executables (programs times their input sets) in one program set. */
  readonly maximumExecutables: number;
  /** Shots summed over a program set's executables. */
  readonly maximumTotalShots: number;
  /** The least total shots of a program set, where the device sets one. */
  readonly minimumTotalShots: number | undefined;
}

/** Device status values of GetDevice. */
export type DeviceStatus = 'ONLINE' | 'OFFLINE' | 'RETIRED';

/** The facts of a device this backend uses. */
export interface DeviceFacts {
  readonly arn: string;
  readonly name: string;
  readonly provider: string;
  /** `QPU` or `SIMULATOR`. */
  readonly type: string;
  readonly status: string;
  /** `paradigm.qubitCount` of the capabilities, if given. */
  readonly qubitCount: number | undefined;
  /** `service.shotsRange` `[min, max]`, if given. */
  readonly shotsRange: readonly [number, number] | undefined;
  /** Whether the capabilities list the OpenQASM action. */
  readonly takesOpenQasm: boolean;
  /** Tasks waiting in the device's normal-priority queue, as Braket words it (e.g. `12`, `>2000`). */
  readonly queueSize: string | undefined;
  /** The JSON schema of the device's `deviceParameters` (capabilities `deviceParameters`), if given. */
  readonly parametersSchema: unknown;
  /** Its program-set limits where the capabilities list the program-set action, else undefined. */
  readonly programSet: ProgramSetLimits | undefined;
}

/** Reads the facts of a GetDevice response (deviceCapabilities is a JSON document in a string). */
export function deviceFacts(out: GetDeviceCommandOutput): DeviceFacts {
  let caps: {
    paradigm?: { qubitCount?: unknown };
    service?: { shotsRange?: unknown };
    action?: Record<string, unknown>;
    deviceParameters?: unknown;
  } = {};
  try {
    caps = JSON.parse(String(out.deviceCapabilities ?? '{}')) as typeof caps;
  } catch {
    // A device whose capabilities do not parse is still usable; the service validates the task.
  }
  const range = caps.service?.shotsRange;
  const queue = out.deviceQueueInfo?.find(
    (q) => q.queue === 'QUANTUM_TASKS_QUEUE' && (q.queuePriority ?? 'Normal') === 'Normal',
  );
  return {
    arn: out.deviceArn ?? '',
    name: out.deviceName ?? '',
    provider: out.providerName ?? '',
    type: out.deviceType ?? '',
    status: out.deviceStatus ?? '',
    qubitCount: typeof caps.paradigm?.qubitCount === 'number' ? caps.paradigm.qubitCount : undefined,
    shotsRange:
      Array.isArray(range) && range.length === 2 && range.every((n) => typeof n === 'number')
        ? [range[0], range[1]]
        : undefined,
    takesOpenQasm: caps.action === undefined || OPENQASM_ACTION in caps.action,
    queueSize: queue?.queueSize,
    parametersSchema: caps.deviceParameters,
    programSet: programSetLimits(caps.action?.[PROGRAM_SET_ACTION]),
  };
}

/** The limits of a program-set action entry; undefined when absent or when it states no usable limits. */
function programSetLimits(entry: unknown): ProgramSetLimits | undefined {
  const e = entry as { maximumExecutables?: unknown; maximumTotalShots?: unknown; minimumTotalShots?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  const count = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : undefined);
  const maximumExecutables = count(e.maximumExecutables);
  const maximumTotalShots = count(e.maximumTotalShots);
  if (!maximumExecutables || !maximumTotalShots) return undefined;
  return { maximumExecutables, maximumTotalShots, minimumTotalShots: count(e.minimumTotalShots) };
}

/** Throws a BackendError saying why `circuit`/`shots` cannot run on the device, if they cannot. */
export function checkDeviceFor(backend: string, d: DeviceFacts, numQubits: number, shots: number): void {
  const label = d.name ? `${d.name} (${d.arn})` : d.arn;
  if (d.status === 'RETIRED')
    throw new BackendError(
      backend,
      `device ${label} is retired; choose another device with the device option or the backend's deviceArn`,
      false,
    );
  if (d.status !== 'ONLINE') {
    throw new BackendError(
      backend,
      `device ${label} is ${d.status || 'not online'}; wait until it is back (see its availability windows in the Braket console) or choose another device`,
      false,
    );
  }
  if (!d.takesOpenQasm)
    throw new BackendError(
      backend,
      `device ${label} does not take OpenQASM programs (action ${OPENQASM_ACTION}); circuit tasks need a gate-model device`,
      false,
    );
  if (d.qubitCount !== undefined && numQubits > d.qubitCount) {
    throw new BackendError(backend, `circuit needs ${numQubits} qubits; ${label} has ${d.qubitCount}`, false);
  }
  if (d.shotsRange && (shots < d.shotsRange[0] || shots > d.shotsRange[1])) {
    throw new BackendError(
      backend,
      `${shots} shots are outside what ${label} accepts (${d.shotsRange[0]} to ${d.shotsRange[1]}); change the shots option`,
      false,
    );
  }
}

/** One line about a device for `orrery backends test`. */
export function describeDevice(d: DeviceFacts): string {
  const qubits = d.qubitCount === undefined ? '' : `, ${d.qubitCount} qubits`;
  const queue = d.queueSize === undefined ? '' : `, ${d.queueSize} tasks queued`;
  return `${d.name || d.arn} (${d.provider} ${d.type.toLowerCase()}): ${d.status}${qubits}${queue}`;
}
