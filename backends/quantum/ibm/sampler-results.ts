/**
 * Sampler V2 results to Counts. The service returns, per classical register, one hex integer per
 * shot whose bit i is the register's bit i. Counts follow Qiskit: each register written most
 * significant bit first (its bit 0 rightmost), registers joined without spaces with the
 * first-declared register rightmost, so the whole key has the circuit's clbit 0 rightmost.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { Counts, Register } from '../circuit.ts';
import type { RegisterSamples } from './runtime-wire.ts';

/**
 * Counts over the circuit's registers `cregs` (the original circuit's, in declaration order)
 * from one pub's `data`. Every register must be present with as many bits as the circuit declares.
 */
export function samplesToCounts(
  backend: string,
  data: Readonly<Record<string, RegisterSamples>>,
  cregs: readonly Register[],
): Counts {
  if (cregs.length === 0) {
    const shots = Object.values(data)[0]?.samples.length ?? 0;
    return shots > 0 ? { '': shots } : {};
  }
  const columns = cregs.map((reg) => {
    const entry = data[reg.name];
    if (!entry || !Array.isArray(entry.samples)) {
      throw new BackendError(
        backend,
        `the job's results have no samples for classical register ${reg.name} (got registers: ${Object.keys(data).join(', ') || 'none'})`,
        false,
      );
    }
    if (entry.num_bits !== reg.size) {
      throw new BackendError(
        backend,
        `the job's results give register ${reg.name} ${entry.num_bits} bits; the circuit declares ${reg.size}`,
        false,
      );
    }
    return { reg, samples: entry.samples };
  });
  const shots = columns[0]!.samples.length;
  for (const c of columns) {
    if (c.samples.length !== shots)
      throw new BackendError(
        backend,
        `the job's results have ${c.samples.length} shots for register ${c.reg.name} but ${shots} for ${columns[0]!.reg.name}`,
        false,
      );
  }
  // Last-declared register leftmost.
  const ordered = [...columns].reverse();
  const memo = ordered.map(() => new Map<string, string>());
  const counts: Counts = {};
  for (let s = 0; s < shots; s++) {
    let key = '';
    ordered.forEach((c, i) => {
      const hex = c.samples[s]!;
      let bits = memo[i]!.get(hex);
      if (bits === undefined) {
        bits = hexToBits(backend, hex, c.reg);
        memo[i]!.set(hex, bits);
      }
      key += bits;
    });
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function hexToBits(backend: string, hex: string, reg: Register): string {
  if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]+$/.test(hex)) {
    throw new BackendError(
      backend,
      `the job's results hold ${JSON.stringify(hex)} for register ${reg.name}, not a hex sample such as '0x3'`,
      false,
    );
  }
  const bits = BigInt(hex).toString(2);
  if (bits.length > reg.size)
    throw new BackendError(
      backend,
      `the job's results hold ${hex} for the ${reg.size}-bit register ${reg.name}`,
      false,
    );
  return bits.padStart(reg.size, '0');
}
