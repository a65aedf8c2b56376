/** Tasks on a real embedded head with real worker processes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  init,
  shutdown,
  remote,
  get,
  put,
  nodes,
  state,
  getRuntimeContext,
  ObjectRef,
  TaskUnschedulableError,
  type RuntimeContext,
} from 'orrery-compute';
import { tempDir } from './helpers.ts';

let driver: RuntimeContext;
const dir = tempDir('tasks');

before(async () => {
  driver = await init({ numCpus: 2, numGpus: 2, resources: { QPU: 2 }, infeasibleGraceMs: 500, logToDriver: false });
});
after(shutdown);

describe('results and options', () => {
  test('a task returns its result; a list of refs gets in order', async () => {
    const square = remote((x: number) => x * x);
    assert.equal(await get(square.remote(7)), 49);
    const refs = Array.from({ length: 12 }, (_, i) => square.remote(i));
    assert.deepEqual(
      await get(refs),
      Array.from({ length: 12 }, (_, i) => i * i),
    );
  });

  test('async tasks are awaited; a task returning undefined gives undefined', async () => {
    const slowDouble = remote(async (x: number) => {
      await new Promise((r) => setTimeout(r, 20));
      return x * 2;
    });
    const nothing = remote(() => undefined);
    assert.equal(await get(slowDouble.remote(21)), 42);
    assert.equal(await get(nothing.remote()), undefined);
  });

  test('.options() merges over the current options and returns a copy', async () => {
    const ctx = remote({ name: 'merged-task', maxRetries: 0 }, async () => {
      const { getRuntimeContext } = await import('orrery-compute');
      return getRuntimeContext().assignedResources;
    });
    const half = ctx.options({ numCpus: 0.5 });
    const renamed = half.options({ name: 'renamed-task' });
    assert.deepEqual(await get(ctx.remote()), { CPU: 1 });
    assert.deepEqual(await get(half.remote()), { CPU: 0.5 });
    assert.deepEqual(await get(renamed.remote()), { CPU: 0.5 }, 'numCpus survives a second .options()');
    const merged = await state.listTasks({ filters: [['name', '=', 'merged-task']] });
    assert.equal(merged.length, 2, 'the original and the numCpus copy keep the name given to remote()');
    const other = await state.listTasks({ filters: [['name', '=', 'renamed-task']] });
    assert.equal(other.length, 1);
  });
});

describe('arguments and the dynamic task graph', () => {
  test('a top-level ref argument is resolved to its value before the task runs', async () => {
    const square = remote((x: number) => x * x);
    const add = remote((a: number, b: number) => a + b);
    assert.equal(await get(add.remote(square.remote(3), put(4))), 13);
    let acc: ObjectRef<number> = put(0);
    for (let i = 1; i <= 5; i++) acc = add.remote(acc, square.remote(i));
    assert.equal(await get(acc), 1 + 4 + 9 + 16 + 25);
  });

  test('the task waits for a slow dependency', async () => {
    const slow = remote(async (v: string) => {
      await new Promise((r) => setTimeout(r, 300));
      return v;
    });
    const upper = remote((s: string) => s.toUpperCase());
    assert.equal(await get(upper.remote(slow.remote('late'))), 'LATE');
  });

  test('refs nested in arrays and objects are passed as refs', async () => {
    const inspect = remote(async (list: ObjectRef<number>[], obj: { inner: ObjectRef<string> }) => {
      const { get, ObjectRef } = await import('orrery-compute');
      return {
        listIsRef: list[0] instanceof ObjectRef,
        objIsRef: obj.inner instanceof ObjectRef,
        listValue: await get(list[0]!),
        objValue: await get(obj.inner),
        sameId: list[0]!.id,
      };
    });
    const n = put(5);
    const out = await get(inspect.remote([n], { inner: put('s') }));
    assert.deepEqual(out, { listIsRef: true, objIsRef: true, listValue: 5, objValue: 's', sameId: n.id });
  });

  test('a task returning an ObjectRef returns the ref, not its value', async () => {
    const makeRef = remote(async (v: number) => {
      const { put } = await import('orrery-compute');
      return put(v * 10);
    });
    const inner = await get(makeRef.remote(4));
    assert.ok(inner instanceof ObjectRef, `expected an ObjectRef, got ${String(inner)}`);
    assert.equal(await get(inner as unknown as ObjectRef<number>), 40);
  });

  test('typed array views at odd offsets, empty and large arrays round trip', async () => {
    const backing = new Uint8Array(64).map((_, i) => i);
    const odd = new Uint8Array(backing.buffer, 3, 7);
    const f32 = new Float32Array(new ArrayBuffer(40), 8, 5).fill(1.25);
    const big = new Float64Array(1_000_000).map((_, i) => i / 3);
    const dv = new DataView(new ArrayBuffer(8));
    dv.setInt16(2, -1234);
    const echo = remote(
      (o: { odd: Uint8Array; f32: Float32Array; empty: Int16Array; big: Float64Array; dv: DataView }) => ({
        o,
        oddSum: o.odd.reduce((a, b) => a + b, 0),
        oddLen: o.odd.length,
        bigLast: o.big[o.big.length - 1],
        dv: o.dv.getInt16(2),
      }),
    );
    const out = await get(echo.remote({ odd, f32, empty: new Int16Array(0), big, dv }));
    assert.deepEqual([...out.o.odd], [3, 4, 5, 6, 7, 8, 9]);
    assert.equal(out.oddSum, 42);
    assert.equal(out.oddLen, 7);
    assert.deepEqual(out.o.f32, f32);
    assert.equal(out.o.empty.length, 0);
    assert.equal(out.o.big.length, 1_000_000);
    assert.equal(out.bigLast, 999_999 / 3);
    assert.equal(out.dv, -1234);
    assert.deepEqual(await get(put(odd)), odd);
  });

  test('a task may return the ref of a task it submitted', async () => {
    const outer = remote(async (n: number) => {
      const { remote } = await import('orrery-compute');
      return remote((x: number) => x * 3).remote(n);
    });
    const inner = await get(outer.remote(5));
    assert.ok(inner instanceof ObjectRef);
    assert.equal(await get(inner as unknown as ObjectRef<number>), 15);
  });

  test('typed arrays, Map, Set, BigInt and Date round trip through a task', async () => {
    const value = {
      f64: new Float64Array([1.5, 2.5, -3]),
      u8: new Uint8Array([0, 255, 7]),
      i32: new Int32Array([-1, 2 ** 31 - 1]),
      big: 2n ** 70n,
      date: new Date('2024-02-29T12:00:00Z'),
      map: new Map<string, bigint>([
        ['a', 1n],
        ['b', 2n],
      ]),
      set: new Set<unknown>([1, 'x', null]),
      nested: { when: [new Date(0)], m: new Map([[1, new Set([2])]]) },
    };
    const echo = remote((v: typeof value) => ({
      echo: v,
      seen: {
        f64: v.f64 instanceof Float64Array && v.f64.reduce((a, b) => a + b, 0),
        u8: v.u8 instanceof Uint8Array,
        big: typeof v.big === 'bigint' && v.big + 1n,
        date: v.date instanceof Date && v.date.getTime(),
        map: v.map instanceof Map && v.map.get('b'),
        set: v.set instanceof Set && v.set.has('x'),
      },
    }));
    const out = await get(echo.remote(value));
    assert.deepEqual(out.echo, value);
    assert.deepEqual(out.seen, {
      f64: 1,
      u8: true,
      big: 2n ** 70n + 1n,
      date: value.date.getTime(),
      map: 2n,
      set: true,
    });
    assert.deepEqual(await get(put(value)), value, 'put/get round trip');
  });
});

describe('nested tasks', () => {
  test('a task submits and gets tasks through await import("orrery-compute")', async () => {
    const outer = remote(async (n: number) => {
      const { remote, get } = await import('orrery-compute');
      const inc = remote((x: number) => x + 1);
      const refs = [inc.remote(n), inc.remote(n + 1)];
      return await get(refs);
    });
    assert.deepEqual(await get(outer.remote(41)), [42, 43]);
  });

  test('recursive nesting deeper than the node has CPUs does not deadlock', async () => {
    const fib = remote(async function fib(n: number): Promise<number> {
      if (n < 2) return n;
      const { remote, get } = await import('orrery-compute');
      const self = remote(fib);
      const [a, b] = await get([self.remote(n - 1), self.remote(n - 2)]);
      return a! + b!;
    });
    assert.equal(await get(fib.remote(4)), 3);
  });

  test('an actor method submits nested tasks', async () => {
    class Doubler {
      async double(xs: number[]) {
        const { remote, get } = await import('orrery-compute');
        const twice = remote((x: number) => x * 2);
        return await get(xs.map((x) => twice.remote(x)));
      }
    }
    const d = remote(Doubler).remote();
    assert.deepEqual(await get(d.double.remote([1, 2, 3])), [2, 4, 6]);
  });
});

describe('runtime context and resources', () => {
  test('getRuntimeContext inside a task gives its node, task and resources', async () => {
    const whoAmI = remote({ name: 'who-am-i' }, async () => {
      const { getRuntimeContext } = await import('orrery-compute');
      const c = getRuntimeContext();
      return { nodeId: c.nodeId, taskId: c.taskId, jobId: c.jobId, assigned: c.assignedResources, backend: c.backend };
    });
    const ref = whoAmI.remote();
    const ctx = await get(ref);
    const [node] = await nodes();
    assert.equal(ctx.nodeId, node!.nodeId);
    assert.equal(ctx.jobId, driver.jobId);
    assert.deepEqual(ctx.assigned, { CPU: 1 });
    assert.equal(ctx.backend, 'local');
    const [row] = await state.listTasks({ filters: [['name', '=', 'who-am-i']] });
    assert.equal(ctx.taskId, row!.taskId);
    assert.notEqual(ctx.taskId, getRuntimeContext().taskId, "the task has its own id, not the driver's");
  });

  test('a task given a fraction of a GPU sees one GPU in CUDA_VISIBLE_DEVICES', async () => {
    const gpuTask = remote({ numGpus: 0.5 }, async () => {
      const { getRuntimeContext } = await import('orrery-compute');
      return { cuda: process.env.CUDA_VISIBLE_DEVICES, assigned: getRuntimeContext().assignedResources };
    });
    const out = await get(gpuTask.remote());
    assert.ok(out.cuda === '0' || out.cuda === '1', `CUDA_VISIBLE_DEVICES was ${out.cuda}`);
    assert.equal(out.assigned.GPU, 0.5);
    const both = await get(gpuTask.options({ numGpus: 2 }).remote());
    assert.deepEqual(both.cuda?.split(',').sort(), ['0', '1']);
    assert.equal(both.assigned.GPU, 2);
  });

  test('an actor given a GPU sees it in CUDA_VISIBLE_DEVICES in its constructor and its methods', async () => {
    class GpuActor {
      atStart: string | undefined;
      constructor() {
        this.atStart = process.env.CUDA_VISIBLE_DEVICES;
      }
      devices() {
        return { atStart: this.atStart, now: process.env.CUDA_VISIBLE_DEVICES };
      }
    }
    const g = remote(GpuActor).options({ numGpus: 1 }).remote();
    const out = await get(g.devices.remote());
    assert.ok(out.atStart === '0' || out.atStart === '1', `constructor saw CUDA_VISIBLE_DEVICES=${out.atStart}`);
    assert.equal(out.now, out.atStart, 'a method sees the same GPU as the constructor');
  });

  test('runtimeEnv.env is set for the task only', async () => {
    const readEnv = remote(() => process.env.ORRERY_TEST_FLAVOUR ?? 'unset');
    assert.equal(await get(readEnv.options({ runtimeEnv: { env: { ORRERY_TEST_FLAVOUR: 'mint' } } }).remote()), 'mint');
    assert.equal(await get(readEnv.remote()), 'unset');
  });

  test('timeoutMs fails a task that runs too long', async () => {
    const forever = remote({ timeoutMs: 200, maxRetries: 0 }, async () => {
      await new Promise((r) => setTimeout(r, 30_000));
      return 'too late';
    });
    await assert.rejects(get(forever.remote()), /timeoutMs|timed out/i);
  });

  test('custom resources are assigned and limit concurrency', async () => {
    const holdQpu = remote({ resources: { QPU: 2 }, numCpus: 0 }, async (d: string, i: number) => {
      const fs = await import('node:fs');
      const path = await import('node:path');
      const { getRuntimeContext } = await import('orrery-compute');
      const mine = path.join(d, `active-${i}`);
      fs.writeFileSync(mine, '');
      const seen = fs.readdirSync(d).filter((f) => f.startsWith('active-')).length;
      await new Promise((r) => setTimeout(r, 150));
      fs.unlinkSync(mine);
      return { seen, qpu: getRuntimeContext().assignedResources.QPU };
    });
    const qdir = join(dir, 'qpu');
    (await import('node:fs')).mkdirSync(qdir);
    const out = await get([0, 1, 2].map((i) => holdQpu.remote(qdir, i)));
    for (const o of out) {
      assert.equal(o.qpu, 2);
      assert.equal(o.seen, 1, 'tasks that each need all the QPUs never overlap');
    }
  });

  test('a custom resource no node has fails with TaskUnschedulableError naming it', async () => {
    const tooMany = remote({ resources: { QPU: 3 } }, () => 1);
    await assert.rejects(get(tooMany.remote()), (e: Error) => {
      assert.ok(e instanceof TaskUnschedulableError, `${e.name}: ${e.message}`);
      assert.match(e.message, /QPU/);
      return true;
    });
    const unknown = remote({ resources: { TPU: 1 } }, () => 1);
    await assert.rejects(
      get(unknown.remote()),
      (e: Error) => e instanceof TaskUnschedulableError && /TPU/.test(e.message),
    );
  });
});
