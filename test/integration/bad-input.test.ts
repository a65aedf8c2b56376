/** Invalid input is rejected at the boundary with a message that names what is wrong. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import {
  init,
  shutdown,
  isInitialized,
  remote,
  get,
  put,
  wait,
  cancel,
  kill,
  getActor,
  state,
  getRuntimeContext,
  type TaskOptions,
  type ActorOptions,
} from 'orrery-compute';

const task = (x: number) => x;
class Plain {
  m() {
    return 1;
  }
}

describe('before init()', () => {
  const needsInit = /init\(\)/;

  test('submitting, putting and getting throw telling to call init()', async () => {
    assert.equal(isInitialized(), false);
    const f = remote(task);
    assert.throws(() => f.remote(1), needsInit);
    assert.throws(() => remote(Plain).remote(), needsInit);
    assert.throws(() => put(1), needsInit);
    assert.throws(() => getRuntimeContext(), needsInit);
  });

  test('async API calls fail telling to call init()', async () => {
    const { ObjectRef } = await import('orrery-compute');
    const ref = new ObjectRef('00');
    for (const call of [
      () => get(ref),
      () => wait([ref]),
      () => cancel(ref),
      () => getActor('x'),
      () => state.listTasks(),
    ]) {
      await assert.rejects(async () => call(), needsInit);
    }
  });

  test('shutdown() before init() does nothing', async () => {
    await shutdown();
    assert.equal(isInitialized(), false);
  });
});

describe('after init()', () => {
  before(async () => {
    await init({ numCpus: 2, logToDriver: false });
  });
  after(shutdown);

  test('a second init() throws unless ignoreReinitError', async () => {
    assert.equal(isInitialized(), true);
    await assert.rejects(init({ numCpus: 1 }), /already/);
    const ctx = await init({ ignoreReinitError: true });
    assert.equal(ctx.jobId, getRuntimeContext().jobId);
    assert.equal(await get(remote(task).remote(3)), 3, 'the first runtime still works');
  });

  test('init() rejects unknown options naming them', async () => {
    await assert.rejects(init({ numCPUs: 2 } as never), /numCPUs/);
  });

  const badTaskOptions: [string, unknown, RegExp][] = [
    ['numCpus negative', { numCpus: -1 }, /numCpus/],
    ['numCpus a string', { numCpus: '2' }, /numCpus/],
    ['numCpus NaN', { numCpus: NaN }, /numCpus/],
    ['numGpus negative', { numGpus: -1 }, /numGpus/],
    ['numGpus fraction above 1', { numGpus: 1.5 }, /numGpus/],
    ['numGpus finer than 1e-4', { numGpus: 0.00001 }, /numGpus/],
    ['memory negative', { memory: -5 }, /memory/],
    ['resources not an object', { resources: 3 }, /resources/],
    ['resources with CPU', { resources: { CPU: 1 } }, /CPU/],
    ['resources with GPU', { resources: { GPU: 1 } }, /GPU/],
    ['resources negative', { resources: { QPU: -1 } }, /QPU/],
    ['accelerator empty', { accelerator: '' }, /accelerator/],
    ['labelSelector value not a string', { labelSelector: { zone: 1 } }, /labelSelector/],
    ['labelSelector malformed in()', { labelSelector: { zone: 'in(a' } }, /labelSelector/],
    ['backend empty', { backend: '' }, /backend/],
    ['maxRetries below -1', { maxRetries: -2 }, /maxRetries/],
    ['maxRetries fractional', { maxRetries: 1.5 }, /maxRetries/],
    ['retryExceptions a string', { retryExceptions: 'yes' }, /retryExceptions/],
    ['retryExceptions list of numbers', { retryExceptions: [1] }, /retryExceptions/],
    ['schedulingStrategy unknown', { schedulingStrategy: 'PACKED' }, /schedulingStrategy/],
    [
      'schedulingStrategy nodeId not a string',
      { schedulingStrategy: { nodeId: 1, soft: false } },
      /schedulingStrategy/,
    ],
    ['runtimeEnv env value not a string', { runtimeEnv: { env: { A: 1 } } }, /runtimeEnv/],
    ['runtimeEnv unknown key', { runtimeEnv: { uv: ['x'] } }, /uv/],
    ['timeoutMs negative', { timeoutMs: -1 }, /timeoutMs/],
    ['name not a string', { name: 5 }, /name/],
    ['unknown option', { numCPUs: 1 }, /numCPUs/],
    ['actor-only option on a task', { maxRestarts: 1 }, /maxRestarts/],
  ];

  test('invalid TaskOptions throw at remote() and at .options(), naming the option', () => {
    const f = remote(task);
    for (const [what, opts, names] of badTaskOptions) {
      assert.throws(
        () => remote(opts as TaskOptions, task),
        (e: Error) => {
          assert.ok(e instanceof TypeError, `${what}: ${e.name}`);
          assert.match(e.message, names, what);
          return true;
        },
        `remote(): ${what}`,
      );
      assert.throws(
        () => f.options(opts as TaskOptions),
        (e: Error) => names.test(e.message),
        `.options(): ${what}`,
      );
    }
  });

  const badActorOptions: [string, unknown, RegExp][] = [
    ['name empty', { name: '' }, /name/],
    ['namespace not a string', { namespace: 5 }, /namespace/],
    ['lifetime unknown', { lifetime: 'forever' }, /lifetime/],
    ['getIfExists not a boolean', { name: 'a', getIfExists: 'yes' }, /getIfExists/],
    ['getIfExists without name', { getIfExists: true }, /getIfExists/],
    ['maxRestarts below -1', { maxRestarts: -2 }, /maxRestarts/],
    ['maxTaskRetries without maxRestarts', { maxTaskRetries: 1 }, /maxTaskRetries/],
    ['maxConcurrency 0', { maxConcurrency: 0 }, /maxConcurrency/],
    ['maxConcurrency fractional', { maxConcurrency: 1.5 }, /maxConcurrency/],
    ['numCpus negative', { numCpus: -1 }, /numCpus/],
    ['numGpus negative', { numGpus: -0.5 }, /numGpus/],
    ['resources with CPU', { resources: { CPU: 1 } }, /CPU/],
    ['labelSelector malformed', { labelSelector: { zone: '!in(' } }, /labelSelector/],
    ['schedulingStrategy unknown', { schedulingStrategy: 'ANYWHERE' }, /schedulingStrategy/],
    ['task-only option on an actor', { maxRetries: 1 }, /maxRetries/],
    ['unknown option', { lifeTime: 'detached' }, /lifeTime/],
  ];

  test('invalid ActorOptions throw at remote() and at .options(), naming the option', () => {
    const A = remote(Plain);
    for (const [what, opts, names] of badActorOptions) {
      assert.throws(
        () => remote(opts as ActorOptions, Plain),
        (e: Error) => {
          assert.ok(e instanceof TypeError, `${what}: ${e.name}`);
          assert.match(e.message, names, what);
          return true;
        },
        `remote(): ${what}`,
      );
      assert.throws(
        () => A.options(opts as ActorOptions),
        (e: Error) => names.test(e.message),
        `.options(): ${what}`,
      );
    }
  });

  test('remote() of something that is not a function or class is a TypeError', () => {
    assert.throws(() => remote(42 as never), TypeError);
    assert.throws(() => remote({ numCpus: 1 }, 'f' as never), TypeError);
    assert.throws(() => remote(null as never, task), TypeError);
  });

  test('a function capturing a variable is rejected at remote(), naming it', () => {
    const factor = 3;
    const offset = 1;
    assert.throws(
      () => remote((x: number) => x * factor + offset),
      (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /factor/);
        assert.match(e.message, /offset/);
        assert.match(e.message, /argument/);
        return true;
      },
    );
    const limit = 10;
    class Captures {
      check(x: number) {
        return x < limit;
      }
    }
    assert.throws(() => remote(Captures), /limit/);
  });

  test('an unserializable argument throws at .remote(), naming the argument', () => {
    const f = remote((a: unknown, b: unknown) => [a, b]);
    assert.throws(
      () => f.remote(1, () => 2),
      (e: Error) => {
        assert.ok(e instanceof TypeError, e.name);
        assert.match(e.message, /argument 1/);
        return true;
      },
    );
    const socket = new Socket();
    try {
      class Holder {
        conn = socket;
      }
      assert.throws(() => f.remote(new Holder(), 0), /argument 0/);
      assert.throws(() => f.remote({ nested: { socket } }, 0), /argument 0/);
      assert.throws(() => put(socket), /put/);
      const A = remote(Plain);
      assert.throws(() => (A.remote as (...a: unknown[]) => unknown)(() => 1), /argument 0/);
      const h = A.remote();
      assert.throws(() => (h.m.remote as (...a: unknown[]) => unknown)(Symbol('s')), /argument 0/);
    } finally {
      socket.destroy();
    }
  });

  test('a task whose result cannot be serialized fails with a clear error', async () => {
    const returnsFn = remote(() => () => 1);
    await assert.rejects(get(returnsFn.remote()), /result|cannot be sent|could not be cloned/);
  });

  test('kill(notAHandle) is a TypeError', async () => {
    for (const bad of [undefined, null, {}, 'actor', put(1), { actorId: 'abc' }]) {
      await assert.rejects(async () => kill(bad as never), TypeError);
    }
  });

  test('get, wait and cancel reject things that are not refs', async () => {
    await assert.rejects(async () => get(5 as never), TypeError);
    await assert.rejects(async () => get([put(1), 'x'] as never), TypeError);
    await assert.rejects(async () => wait('x' as never), TypeError);
    await assert.rejects(async () => wait([put(1)], { numReturns: -1 }), /numReturns/);
    await assert.rejects(async () => get(put(1), { timeoutMs: -1 }), /timeoutMs/);
    await assert.rejects(async () => cancel({} as never), TypeError);
    await assert.rejects(async () => getActor(''), TypeError);
  });

  test('getActor without such an actor says so', async () => {
    await assert.rejects(getActor('nobody-has-this-name'), /nobody-has-this-name/);
  });
});
