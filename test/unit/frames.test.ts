import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeFrame, FrameDecoder, FrameError } from '../../orchestrator/protocol/frames.ts';

const concat = (bufs: Buffer[]) => Buffer.concat(bufs);

test('a batch round-trips, with large byte arrays carried after the header', () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const msgs = [
    { type: 'log', text: 'hi' },
    { type: 'done', result: { data: big, marked: false } },
  ];
  const [batch] = new FrameDecoder().push(concat(encodeFrame(msgs)));
  assert.equal((batch![0] as { text: string }).text, 'hi');
  const got = (batch![1] as { result: { data: Uint8Array } }).result.data;
  assert.deepEqual(Buffer.from(got), Buffer.from(big));
});

test('frames split at every byte boundary decode the same', () => {
  const msgs = [
    { type: 'request', requestId: 7, req: { op: 'get', ids: ['a', 'b'] } },
    { type: 'log', data: new Uint8Array(5000).fill(3) },
  ];
  const wire = concat([...encodeFrame(msgs), ...encodeFrame([{ type: 'shutdown' }])]);
  for (const step of [1, 3, 7, 4096]) {
    const d = new FrameDecoder();
    const out: unknown[][] = [];
    for (let i = 0; i < wire.length; i += step) out.push(...d.push(wire.subarray(i, i + step)));
    assert.equal(out.length, 2, `step ${step}`);
    assert.equal((out[1]![0] as { type: string }).type, 'shutdown');
    assert.equal(d.partial, false);
  }
});

test('a truncated stream is reported as partial', () => {
  const wire = concat(encodeFrame([{ type: 'shutdown' }]));
  const d = new FrameDecoder();
  assert.deepEqual(d.push(wire.subarray(0, wire.length - 1)), []);
  assert.equal(d.partial, true);
});

test('a length prefix beyond the limit is refused before allocating', () => {
  const d = new FrameDecoder(1024);
  const b = Buffer.alloc(8);
  b.writeUInt32LE(1 << 30, 0);
  assert.throws(() => d.push(b), FrameError);
});

test('a long length prefix (0xFFFFFFFF, then u64: bodies of 4 GiB - 1 and up) decodes, split anywhere', () => {
  const short = concat(encodeFrame([{ type: 'log', data: new Uint8Array(3000).fill(9) }]));
  const body = short.subarray(4);
  const prefix = Buffer.alloc(12);
  prefix.writeUInt32LE(0xffffffff, 0);
  prefix.writeBigUInt64LE(BigInt(body.length), 4);
  const wire = concat([prefix, body, short]);
  for (const step of [1, 5, 6, 11, 4096]) {
    const d = new FrameDecoder();
    const out: unknown[][] = [];
    for (let i = 0; i < wire.length; i += step) out.push(...d.push(wire.subarray(i, i + step)));
    assert.equal(out.length, 2, `step ${step}`);
    for (const [m] of out) assert.deepEqual(Buffer.from((m as { data: Uint8Array }).data), Buffer.alloc(3000, 9));
    assert.equal(d.partial, false);
  }
  const tooLong = Buffer.alloc(12);
  tooLong.writeUInt32LE(0xffffffff, 0);
  tooLong.writeBigUInt64LE(2n ** 60n, 4);
  assert.throws(() => new FrameDecoder().push(tooLong), /bad frame length/);
});

test('fuzz: random and mutated frames either decode or raise FrameError, never anything else', () => {
  const good = concat(
    encodeFrame([
      { type: 'run', args: [{ data: new Uint8Array(3000), marked: false }] },
      { type: 'log', text: 'x' },
    ]),
  );
  let decoded = 0;
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    let input: Buffer;
    if (i % 3 === 0) input = randomBytes(1 + (i % 200));
    else {
      input = Buffer.from(good);
      for (let k = 0; k < 1 + (i % 5); k++) input[(i * 7919 + k * 104729) % input.length] = (i * 31 + k) & 0xff;
      if (i % 3 === 2) input = input.subarray(0, (i * 13) % input.length);
    }
    try {
      decoded += new FrameDecoder(1 << 20).push(input).length;
    } catch (err) {
      assert.ok(err instanceof FrameError, `unexpected ${(err as Error).name}: ${(err as Error).message}`);
      refused++;
    }
  }
  assert.ok(refused > 0, 'some mutated frames must be refused');
  assert.ok(decoded >= 0);
});
