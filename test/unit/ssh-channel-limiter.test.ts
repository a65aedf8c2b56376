import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelLimiter } from '../../backends/transport/ssh/channel-limiter.ts';

test('at most `limit` slots; the rest wait in order and get freed slots', async () => {
  const lim = new ChannelLimiter(2);
  const a = await lim.acquire();
  const b = await lim.acquire();
  const order: string[] = [];
  const c = lim.acquire().then((r) => {
    order.push('c');
    return r;
  });
  const d = lim.acquire().then((r) => {
    order.push('d');
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([lim.active, lim.queued, order.length], [2, 2, 0]);
  a();
  a(); // a second release of the same slot frees nothing more
  const rc = await c;
  assert.deepEqual([lim.active, lim.queued, order], [2, 1, ['c']]);
  b();
  const rd = await d;
  assert.deepEqual(order, ['c', 'd']);
  rc();
  rd();
  assert.deepEqual([lim.active, lim.queued], [0, 0]);
});

test('closing fails waiting and later opens with the reason', async () => {
  const lim = new ChannelLimiter(1);
  await lim.acquire();
  const waiting = lim.acquire();
  lim.close(new Error('connection lost'));
  await assert.rejects(waiting, /connection lost/);
  await assert.rejects(lim.acquire(), /connection lost/);
});

test('the limit must be a positive integer', () => {
  assert.throws(() => new ChannelLimiter(0), /integer >= 1/);
});
