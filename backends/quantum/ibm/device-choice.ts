/**
 * Which IBM device runs a circuit: a named one (checked against what the instance may use) or
 * `least_busy`, the operational hardware device with enough qubits and the fewest pending jobs,
 * as Qiskit's `QiskitRuntimeService.least_busy` chooses. Pure: decisions from listed facts.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { DeviceListEntry } from './runtime-wire.ts';

/** The device option that asks for the shortest queue. */
export const LEAST_BUSY = 'least_busy';

/** Picks the device for a circuit of `qubitsNeeded` qubits; `wanted` is a device name or {@link LEAST_BUSY}. */
export function chooseDevice(
  backend: string,
  devices: readonly DeviceListEntry[],
  wanted: string,
  qubitsNeeded: number,
): string {
  if (wanted !== LEAST_BUSY) {
    if (!devices.some((d) => d.name === wanted)) {
      throw new BackendError(
        backend,
        `device ${wanted} is not available to this IBM Quantum instance; available: ${listing(devices)}. Set device in the backend config or the task's device option to one of these, or to '${LEAST_BUSY}'`,
        false,
      );
    }
    return wanted;
  }
  const fits = devices.filter(
    (d) => d.status.name === 'online' && d.is_simulator !== true && (d.qubits ?? 0) >= qubitsNeeded,
  );
  if (fits.length === 0) {
    throw new BackendError(
      backend,
      `no operational device of this IBM Quantum instance has the ${qubitsNeeded} qubits the circuit needs; devices: ${listing(devices)}`,
      false,
    );
  }
  let best = fits[0]!;
  for (const d of fits) if (d.queue_length < best.queue_length) best = d;
  return best.name;
}

/** Throws when the circuit needs more qubits than the device has. */
export function checkQubits(backend: string, device: string, deviceQubits: number, qubitsNeeded: number): void {
  if (qubitsNeeded > deviceQubits) {
    throw new BackendError(
      backend,
      `circuit needs ${qubitsNeeded} qubits; ${device} has ${deviceQubits}. Choose a larger device, or '${LEAST_BUSY}' to let Orrery pick one that fits`,
      false,
    );
  }
}

function listing(devices: readonly DeviceListEntry[]): string {
  if (devices.length === 0) return 'none';
  return devices
    .map((d) => `${d.name} (${d.qubits ?? '?'} qubits, ${d.status.name}, ${d.queue_length} pending jobs)`)
    .join(', ');
}
