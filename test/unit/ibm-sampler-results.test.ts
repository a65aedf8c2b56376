import { test } from 'node:test';
import assert from 'node:assert/strict';
import { samplesToCounts } from '../../backends/quantum/ibm/sampler-results.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';
import type { Register } from '../../backends/quantum/circuit.ts';

const c2: Register = { name: 'c', size: 2, offset: 0 };

test('one register: hex samples become Qiskit bitstrings with bit 0 rightmost, padded to the register size', () => {
  const counts = samplesToCounts('ibm', { c: { samples: ['0x0', '0x3', '0x1', '0x3', '0x2'], num_bits: 2 } }, [c2]);
  // 0x1 sets bit 0 only -> "01"; 0x2 sets bit 1 only -> "10".
  assert.deepEqual(counts, { '00': 1, '11': 2, '01': 1, '10': 1 });
});

test('two registers: the first-declared register is rightmost, joined without a space', () => {
  const a: Register = { name: 'a', size: 1, offset: 0 };
  const b: Register = { name: 'b', size: 3, offset: 1 };
  const data = {
    a: { samples: ['0x1', '0x0', '0x1'], num_bits: 1 },
    b: { samples: ['0x4', '0x1', '0x4'], num_bits: 3 },
  };
  // Shot 0: b=100, a=1 -> "1001"; shot 1: b=001, a=0 -> "0010".
  assert.deepEqual(samplesToCounts('ibm', data, [a, b]), { '1001': 2, '0010': 1 });
});

test('the key of every shot equals the flat clbit string (clbit k at position len-1-k)', () => {
  const a: Register = { name: 'a', size: 2, offset: 0 };
  const b: Register = { name: 'b', size: 2, offset: 2 };
  // Flat clbits for the shot: clbit0=1 clbit1=0 (a=0b01) clbit2=0 clbit3=1 (b=0b10).
  const flat = [1, 0, 0, 1];
  const expected = flat.map(String).reverse().join('');
  assert.deepEqual(
    samplesToCounts('ibm', { a: { samples: ['0x1'], num_bits: 2 }, b: { samples: ['0x2'], num_bits: 2 } }, [a, b]),
    { [expected]: 1 },
  );
});

test('registers wider than 53 bits are decoded exactly', () => {
  const wide: Register = { name: 'w', size: 70, offset: 0 };
  const hex = `0x${((1n << 69n) | 5n).toString(16)}`;
  const counts = samplesToCounts('ibm', { w: { samples: [hex], num_bits: 70 } }, [wide]);
  assert.deepEqual(counts, { [`1${'0'.repeat(66)}101`]: 1 });
});

test('a missing register, a wrong width or a malformed sample is a BackendError naming the register', () => {
  assert.throws(
    () => samplesToCounts('ibm', { d: { samples: ['0x0'], num_bits: 2 } }, [c2]),
    (e: unknown) => e instanceof BackendError && /register c/.test(e.message) && /got registers: d/.test(e.message),
  );
  assert.throws(
    () => samplesToCounts('ibm', { c: { samples: ['0x0'], num_bits: 3 } }, [c2]),
    (e: unknown) => e instanceof BackendError && /3 bits; the circuit declares 2/.test(e.message),
  );
  assert.throws(
    () => samplesToCounts('ibm', { c: { samples: ['11'], num_bits: 2 } }, [c2]),
    (e: unknown) => e instanceof BackendError && /not a hex sample/.test(e.message),
  );
  assert.throws(
    () => samplesToCounts('ibm', { c: { samples: ['0x7'], num_bits: 2 } }, [c2]),
    /0x7 for the 2-bit register c/,
  );
});
