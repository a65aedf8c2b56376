/** Fault tolerance of tasks: worker crashes, retries, retryExceptions, error propagation. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { init, shutdown, remote, get, state, TaskError, WorkerCrashedError } from 'orrery-compute';
import { linesOf, tempDir } from './helpers.ts';

const dir = tempDir('fault');
let seq = 0;
/** A fresh marker file path for one test. */
const marker = (name: string) => join(dir, `${name}-${seq++}`);

before(async () => {
  await init({ numCpus: 2, logToDriver: false });
});
after(shutdown);

/** Records the attempt in `file`; SIGKILLs its own worker on the first `crashes` attempts. */
const crashy = remote(async (file: string, crashes: number, v: number) => {
  const fs = await import('node:fs');
  const attempt = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  fs.appendFileSync(file, `${process.pid}\n`);
  if (attempt < crashes) process.kill(process.pid, 'SIGKILL');
  return v * 2;
});

/** Records the attempt in `file`; throws `kind` on the first `failures` attempts. */
const throwy = remote(async (file: string, failures: number, kind: string) => {
  const fs = await import('node:fs');
  const attempt = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  fs.appendFileSync(file, `${attempt}\n`);
  class TransientError extends Error {}
  class FlakyNetworkError extends TransientError {
    constructor(m: string) {
      super(m);
      this.name = 'FlakyNetworkError';
    }
  }
  if (attempt < failures) {
    if (kind === 'plain') throw new Error(`plain failure on attempt ${attempt}`);
    if (kind === 'named') {
      const e = new Error(`named failure on attempt ${attempt}`);
      e.name = 'FlakyError';
      throw e;
    }
    throw new FlakyNetworkError(`subclass failure on attempt ${attempt}`);
  }
  return `ok after ${attempt} failures`;
});

describe('worker crashes', () => {
  test('a task whose worker is SIGKILLed on the first attempt is retried and succeeds', async () => {
    const file = marker('crash-once');
    const ref = crashy.remote(file, 1, 21);
    assert.equal(await get(ref), 42);
    const pids = linesOf(file);
    assert.equal(pids.length, 2);
    assert.notEqual(pids[0], pids[1], 'the retry ran in a new worker');
    const [row] = await state.listTasks({ filters: [['taskId', '=', ref.id]] });
    assert.equal(row?.attempt, 1);
    assert.equal(row?.state, 'FINISHED');
  });

  test('dependents of a retried task get its value', async () => {
    const file = marker('crash-dep');
    const add1 = remote((x: number) => x + 1);
    assert.equal(await get(add1.remote(crashy.remote(file, 1, 5))), 11);
  });

  test('with maxRetries: 0 a crash fails the task with WorkerCrashedError, and its dependents too', async () => {
    const file = marker('crash-no-retry');
    const ref = crashy.options({ maxRetries: 0 }).remote(file, 1, 1);
    const dependent = remote((x: number) => x).remote(ref);
    await assert.rejects(get(ref), (e: Error) => {
      assert.ok(e instanceof WorkerCrashedError, `${e.name}: ${e.message}`);
      assert.equal(e.name, 'WorkerCrashedError');
      return true;
    });
    await assert.rejects(get(dependent), WorkerCrashedError);
    assert.equal(linesOf(file).length, 1, 'no retry');
  });

  test('maxRetries bounds the attempts: maxRetries 2 means 3 attempts', async () => {
    const file = marker('crash-always');
    await assert.rejects(get(crashy.options({ maxRetries: 2 }).remote(file, 99, 1)), WorkerCrashedError);
    assert.equal(linesOf(file).length, 3);
  });

  test('maxRetries: -1 retries without limit', async () => {
    const file = marker('crash-infinite');
    assert.equal(await get(crashy.options({ maxRetries: -1 }).remote(file, 4, 3)), 6);
    assert.equal(linesOf(file).length, 5);
  });

  test('a worker that calls process.exit mid-task counts as a crash', async () => {
    const exiting = remote({ maxRetries: 0 }, () => {
      process.exit(3);
    });
    await assert.rejects(get(exiting.remote()), WorkerCrashedError);
  });
});

describe('retryExceptions', () => {
  test('by default an exception is not retried', async () => {
    const file = marker('exc-default');
    await assert.rejects(
      get(throwy.remote(file, 1, 'plain')),
      (e: Error) => e instanceof TaskError && /plain failure on attempt 0/.test(e.message),
    );
    assert.equal(linesOf(file).length, 1);
  });

  test('retryExceptions: true retries any exception', async () => {
    const file = marker('exc-true');
    assert.equal(await get(throwy.options({ retryExceptions: true }).remote(file, 2, 'plain')), 'ok after 2 failures');
  });

  test('retryExceptions: true stops after maxRetries and fails with the last TaskError', async () => {
    const file = marker('exc-exhausted');
    await assert.rejects(
      get(throwy.options({ retryExceptions: true, maxRetries: 2 }).remote(file, 99, 'plain')),
      (e: Error) => {
        assert.ok(e instanceof TaskError, `${e.name}: ${e.message}`);
        assert.equal((e as TaskError).remoteMessage, 'plain failure on attempt 2');
        return true;
      },
    );
    assert.equal(linesOf(file).length, 3);
  });

  test('retryExceptions: [name] retries an error with that name only', async () => {
    const file = marker('exc-named');
    assert.equal(
      await get(throwy.options({ retryExceptions: ['FlakyError'] }).remote(file, 1, 'named')),
      'ok after 1 failures',
    );
    const other = marker('exc-named-other');
    await assert.rejects(
      get(throwy.options({ retryExceptions: ['SomethingElse'] }).remote(other, 1, 'named')),
      (e: Error) => {
        assert.ok(e instanceof TaskError);
        assert.equal((e as TaskError).remoteName, 'FlakyError');
        return true;
      },
    );
    assert.equal(linesOf(other).length, 1);
  });

  test('retryExceptions: [name] matches a class anywhere in the prototype chain', async () => {
    const file = marker('exc-chain');
    assert.equal(
      await get(throwy.options({ retryExceptions: ['TransientError'] }).remote(file, 2, 'subclass')),
      'ok after 2 failures',
    );
    const viaOwnName = marker('exc-chain-own');
    assert.equal(
      await get(throwy.options({ retryExceptions: ['FlakyNetworkError'] }).remote(viaOwnName, 1, 'subclass')),
      'ok after 1 failures',
    );
  });

  test('retryExceptions does not turn a crash into an unretried failure', async () => {
    const file = marker('crash-with-exc-list');
    assert.equal(await get(crashy.options({ retryExceptions: ['Nope'] }).remote(file, 1, 4)), 8);
  });
});

describe('error propagation', () => {
  test('a TaskError propagates through dependent tasks with the original remote data', async () => {
    const ran = marker('never-ran');
    const failing = remote({ name: 'failing-root' }, function failingRoot() {
      throw new RangeError('value out of range: 42');
    });
    const step = remote(async (x: unknown, file: string) => {
      const fs = await import('node:fs');
      fs.appendFileSync(file, 'ran\n');
      return x;
    });
    const root = failing.remote();
    const mid = step.remote(root, ran);
    const leaf = step.remote(mid, ran);
    for (const ref of [root, mid, leaf]) {
      await assert.rejects(get(ref), (e: Error) => {
        assert.ok(e instanceof TaskError, `${e.name}: ${e.message}`);
        const te = e as TaskError;
        assert.equal(te.name, 'TaskError');
        assert.equal(te.remoteName, 'RangeError');
        assert.equal(te.remoteMessage, 'value out of range: 42');
        assert.match(te.remoteStack, /value out of range: 42/);
        assert.match(te.remoteStack, /failingRoot/);
        assert.equal(te.taskName, 'failing-root');
        assert.ok(te.nodeId, 'the error names the node it happened on');
        assert.match(te.message, /value out of range: 42/);
        return true;
      });
    }
    assert.deepEqual(linesOf(ran), [], 'tasks depending on a failed task never run');
  });

  test('an error raised by a nested get inside a task keeps the original remote data', async () => {
    const outer = remote(async () => {
      const { remote, get } = await import('orrery-compute');
      const inner = remote({ name: 'inner-failure' }, () => {
        throw new TypeError('inner broke');
      });
      return await get(inner.remote());
    });
    await assert.rejects(get(outer.remote()), (e: Error) => {
      assert.ok(e instanceof TaskError, `${e.name}: ${e.message}`);
      assert.equal((e as TaskError).remoteName, 'TypeError');
      assert.equal((e as TaskError).remoteMessage, 'inner broke');
      return true;
    });
  });

  test('a thrown non-Error value still fails the task with TaskError', async () => {
    const weird = remote(() => {
      throw { code: 7 };
    });
    await assert.rejects(
      get(weird.remote()),
      (e: Error) => e instanceof TaskError && /7/.test((e as TaskError).remoteMessage),
    );
  });
});
