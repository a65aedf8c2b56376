import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Channel } from '../../orchestrator/protocol/channel.ts';
import { encodeFrame } from '../../orchestrator/protocol/frames.ts';
import type { Message } from '../../orchestrator/protocol/messages.ts';

function pair(): { a: Channel; b: Channel; toB: PassThrough } {
  const toB = new PassThrough();
  const toA = new PassThrough();
  return { a: new Channel(toA, toB, 'a'), b: new Channel(toB, toA, 'b'), toB };
}

test('messages sent in one turn arrive in order', async () => {
  const { a, b } = pair();
  const got: Message[] = [];
  const done = new Promise<void>((resolve) =>
    b.listen(
      (m) => {
        got.push(m);
        if (got.length === 1000) resolve();
      },
      () => {},
    ),
  );
  a.listen(
    () => {},
    () => {},
  );
  for (let i = 0; i < 1000; i++) a.send({ type: 'log', stream: 'stdout', text: String(i) });
  await done;
  assert.deepEqual(
    got.map((m) => (m as { text: string }).text),
    Array.from({ length: 1000 }, (_, i) => String(i)),
  );
});

test('garbage on the wire closes the channel with a reason', async () => {
  const { b, toB } = pair();
  const reason = new Promise<string | undefined>((resolve) => b.listen(() => {}, resolve));
  toB.write(Buffer.from([5, 0, 0, 0, 1, 2, 3, 4, 5]));
  assert.match((await reason) ?? '', /malformed frame/);
});

test('a well-framed message of an unknown type closes the channel', async () => {
  const { b, toB } = pair();
  const reason = new Promise<string | undefined>((resolve) => b.listen(() => {}, resolve));
  for (const buf of encodeFrame([{ type: 'nonsense' }])) toB.write(buf);
  assert.match((await reason) ?? '', /malformed message/);
});

test('end of stream inside a frame is reported as truncation', async () => {
  const { b, toB } = pair();
  const reason = new Promise<string | undefined>((resolve) => b.listen(() => {}, resolve));
  const wire = Buffer.concat(encodeFrame([{ type: 'shutdown' }]));
  toB.end(wire.subarray(0, wire.length - 2));
  assert.match((await reason) ?? '', /ended inside a frame/);
});
