/**
 * The backend conformance suite: the same behaviour is asked of every backend. A backend's
 * test file calls `conformance(backendName)` after `init()` made that backend available.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remote, get, put, command, getRuntimeContext, CommandFailedError, TaskError } from 'orrery-compute';
import { tempDir } from './helpers.ts';
import { join } from 'node:path';
import { chmodSync } from 'node:fs';

/** Registers the conformance tests for the backend named `backend`. */
export function conformance(backend: string): void {
  const on = { backend };

  test(`[${backend}] a task runs on the backend and reports where it ran`, async () => {
    const where = remote(on, async () => {
      const { getRuntimeContext } = await import('orrery-compute');
      const { backend, nodeId } = getRuntimeContext();
      return { backend, nodeId };
    });
    const ctx = await get(where.remote());
    assert.equal(ctx.backend, backend);
    assert.ok(ctx.nodeId.length > 0);
    assert.ok(getRuntimeContext().jobId);
  });

  test(`[${backend}] arguments, refs and a 4 MB typed array round-trip`, async () => {
    const sum = remote(on, (xs: Float64Array, k: number) => xs.reduce((a, b) => a + b, 0) * k);
    const big = new Float64Array(512 * 1024).fill(1);
    assert.equal(await get(sum.remote(put(big), 2)), 2 * big.length);
    const echo = remote(on, (x: Float64Array) => x);
    const back = await get(echo.remote(big));
    assert.equal(back.length, big.length);
    assert.equal(back[big.length - 1], 1);
  });

  test(`[${backend}] nested tasks and actors`, async () => {
    const outer = remote(on, async (n: number) => {
      const { remote, get } = await import('orrery-compute');
      const inner = remote((x: number) => x * 10);
      return get(inner.remote(n));
    });
    assert.equal(await get(outer.remote(4)), 40);
    class Acc {
      total = 0;
      add(x: number) {
        return (this.total += x);
      }
    }
    const acc = remote({ backend }, Acc).remote();
    await get([acc.add.remote(1), acc.add.remote(2)]);
    assert.equal(await get(acc.add.remote(3)), 6);
  });

  test(`[${backend}] errors carry the remote name, message and stack`, async () => {
    const boom = remote(on, () => {
      throw new RangeError('out of range here');
    });
    await assert.rejects(
      get(boom.remote()),
      (e: unknown) =>
        e instanceof TaskError &&
        e.remoteName === 'RangeError' &&
        /out of range here/.test(e.remoteMessage) &&
        e.remoteStack.length > 0,
    );
  });

  test(`[${backend}] a worker killed mid-task is retried`, async () => {
    const dir = tempDir(`conf-${backend}`);
    chmodSync(dir, 0o777); // remote tasks run as the test user, not as the driver's user
    const flaky = remote({ ...on, maxRetries: 2 }, async (marker: string) => {
      const fs = await import('node:fs');
      if (!fs.existsSync(marker)) {
        fs.writeFileSync(marker, 'died once');
        process.kill(process.pid, 'SIGKILL');
      }
      return 'second attempt';
    });
    assert.equal(await get(flaky.remote(join(dir, 'marker'))), 'second attempt');
  });

  test(`[${backend}] command tasks run programs and fail with CommandFailedError`, async () => {
    const run = command({ ...on, outputs: ['out.txt'] });
    const r = await get(run.remote({ argv: ['sh', '-c', 'cat in > out.txt; echo done'], inputs: { in: 'payload' } }));
    assert.equal(r.stdout, 'done\n');
    assert.equal(new TextDecoder().decode(r.files['out.txt']), 'payload');
    await assert.rejects(
      get(run.remote({ argv: ['sh', '-c', 'exit 7'] })),
      (e: unknown) => e instanceof CommandFailedError && e.exitCode === 7,
    );
  });
}
