/** Actor failures: constructor errors, method errors, kill, restarts and task retries. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { init, shutdown, remote, get, kill, state, ActorDiedError, TaskError, type ActorRow } from 'orrery-compute';
import { alive, linesOf, tempDir, until, Counter } from './helpers.ts';

const dir = tempDir('actor-failures');

before(async () => {
  await init({ numCpus: 2, logToDriver: false });
});
after(shutdown);

const CounterActor = remote(Counter);

/** Polls the State API until the actor's row matches. */
async function actorRow(actorId: string, match: (row: ActorRow) => boolean): Promise<ActorRow> {
  return await until(`actor ${actorId} to match`, async () => {
    const [row] = await state.listActors({ filters: [['actorId', '=', actorId]] });
    return row && match(row) ? row : undefined;
  });
}

test('an actor whose constructor throws is dead: calls fail with ActorDiedError carrying its message', async () => {
  class Broken {
    constructor() {
      throw new Error('missing config file /etc/broken.conf');
    }
    ping() {
      return 'pong';
    }
  }
  const b = remote(Broken).remote();
  for (const ref of [b.ping.remote(), b.ping.remote()]) {
    await assert.rejects(get(ref), (e: Error) => {
      assert.ok(e instanceof ActorDiedError, `${e.name}: ${e.message}`);
      assert.match(e.message, /missing config file \/etc\/broken\.conf/);
      return true;
    });
  }
  await actorRow(b.actorId, (r) => r.state === 'DEAD');
  await assert.rejects(
    get(b.ping.remote()),
    (e: Error) => e instanceof ActorDiedError && /broken\.conf/.test(e.message),
  );
});

test('a method that throws fails that call with TaskError; the actor lives on; kill() then ends it', async () => {
  const c = CounterActor.remote();
  await get(c.inc.remote(2));
  await assert.rejects(get(c.fail.remote('bad input')), (e: Error) => {
    assert.ok(e instanceof TaskError, `${e.name}: ${e.message}`);
    const te = e as TaskError;
    assert.equal(te.remoteName, 'RangeError');
    assert.equal(te.remoteMessage, 'bad input');
    assert.match(te.remoteStack, /bad input/);
    return true;
  });
  assert.equal(await get(c.inc.remote(1)), 3, 'the actor kept its state');

  const pid = await get(c.pid.remote());
  await kill(c);
  await assert.rejects(get(c.inc.remote()), ActorDiedError);
  await actorRow(c.actorId, (r) => r.state === 'DEAD');
  await until('the actor process to exit', () => !alive(pid));
  await kill(c);
});

test('kill with noRestart: false restarts the actor (constructor re-runs) and counts as a restart', async () => {
  const c = CounterActor.options({ maxRestarts: 1 }).remote(5);
  assert.equal(await get(c.inc.remote(10)), 15);
  await kill(c, { noRestart: false });
  await actorRow(c.actorId, (r) => r.state === 'ALIVE' && r.numRestarts === 1);
  assert.equal(await get(c.inc.remote(1)), 6, 'the constructor ran again with its original arguments');
  await kill(c, { noRestart: false });
  await actorRow(c.actorId, (r) => r.state === 'DEAD');
  await assert.rejects(get(c.inc.remote(1)), ActorDiedError);
});

test('kill with noRestart: false and no restarts left kills the actor', async () => {
  const c = CounterActor.remote();
  await get(c.inc.remote());
  await kill(c, { noRestart: false });
  await actorRow(c.actorId, (r) => r.state === 'DEAD');
  await assert.rejects(get(c.inc.remote()), ActorDiedError);
});

test('maxRestarts: an actor whose process dies is restarted until restarts run out', async () => {
  const c = CounterActor.options({ maxRestarts: 1 }).remote();
  assert.equal(await get(c.inc.remote()), 1);
  await assert.rejects(get(c.crash.remote()), ActorDiedError, 'the interrupted call fails without maxTaskRetries');
  assert.equal(await get(c.inc.remote()), 1, 'restarted: state is fresh');
  const row = await actorRow(c.actorId, (r) => r.state === 'ALIVE');
  assert.equal(row.numRestarts, 1);
  await assert.rejects(get(c.crash.remote()), ActorDiedError);
  await assert.rejects(get(c.inc.remote()), ActorDiedError);
  await actorRow(c.actorId, (r) => r.state === 'DEAD');
});

test('maxTaskRetries retries the call that was interrupted by the crash', async () => {
  class Flaky {
    constructor(ctorLog: string) {
      const fs = process.getBuiltinModule('node:fs');
      fs.appendFileSync(ctorLog, `${process.pid}\n`);
    }
    work(marker: string) {
      const fs = process.getBuiltinModule('node:fs');
      if (!fs.existsSync(marker)) {
        fs.writeFileSync(marker, 'crashed once');
        process.kill(process.pid, 'SIGKILL');
      }
      return `ok in ${process.pid}`;
    }
  }
  const ctorLog = join(dir, 'flaky-ctor');
  const marker = join(dir, 'flaky-marker');
  const f = remote(Flaky).options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(ctorLog);
  const out = await get(f.work.remote(marker));
  const pids = linesOf(ctorLog);
  assert.equal(pids.length, 2, 'the constructor ran twice');
  assert.equal(out, `ok in ${pids[1]}`);
});

test('a constructor that throws is retried with maxRestarts, then the actor is dead with its message', async () => {
  class FailsTwice {
    constructor(log: string) {
      const fs = process.getBuiltinModule('node:fs');
      fs.appendFileSync(log, 'x\n');
      throw new Error('database unreachable');
    }
    ping() {
      return 'pong';
    }
  }
  const log = join(dir, 'fails-twice');
  const f = remote(FailsTwice).options({ maxRestarts: 1 }).remote(log);
  await assert.rejects(
    get(f.ping.remote()),
    (e: Error) => e instanceof ActorDiedError && /database unreachable/.test(e.message),
  );
  assert.equal(linesOf(log).length, 2, 'the constructor ran once more for the one restart');
});

test('an actor whose constructor argument is a failed ref is dead: calls fail with ActorDiedError', async () => {
  const boom = remote(() => {
    throw new Error('upstream failed');
  });
  const c = CounterActor.remote(boom.remote() as unknown as number);
  await assert.rejects(get(c.inc.remote(), { timeoutMs: 5_000 }), (e: Error) => {
    assert.ok(e instanceof ActorDiedError, `${e.name}: ${e.message}`);
    assert.match(e.message, /upstream failed/);
    return true;
  });
});

test('a method call whose argument failed fails with that error; the actor goes on in order', async () => {
  class Seq {
    seen: unknown[] = [];
    add(v: unknown) {
      this.seen.push(v);
      return this.seen.length;
    }
    all() {
      return this.seen;
    }
  }
  const boom = remote(() => {
    throw new RangeError('bad arg');
  });
  const slow = remote(async (v: string) => {
    await new Promise((r) => setTimeout(r, 300));
    return v;
  });
  const s = remote(Seq).remote();
  const first = s.add.remote(slow.remote('slow-first') as unknown as string);
  const failed = s.add.remote(boom.remote() as unknown as string);
  const third = s.add.remote('third');
  await assert.rejects(
    get(failed),
    (e: Error) => e instanceof TaskError && (e as TaskError).remoteName === 'RangeError',
  );
  assert.deepEqual(await get([first, third]), [1, 2]);
  assert.deepEqual(
    await get(s.all.remote()),
    ['slow-first', 'third'],
    'a call waiting on an argument holds back later calls',
  );
});

test('an async method that throws fails that call with TaskError', async () => {
  class AsyncThrower {
    async boom() {
      await new Promise((r) => setTimeout(r, 10));
      throw new SyntaxError('async boom');
    }
    async ok() {
      return 'fine';
    }
  }
  const a = remote(AsyncThrower).remote();
  await assert.rejects(
    get(a.boom.remote()),
    (e: Error) => e instanceof TaskError && (e as TaskError).remoteName === 'SyntaxError',
  );
  assert.equal(await get(a.ok.remote()), 'fine');
});

test('kill() fails the calls still queued on the actor', async () => {
  class Slow {
    async nap(ms: number) {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    }
  }
  const s = remote(Slow).options({ maxConcurrency: 1 }).remote();
  assert.equal(await get(s.nap.remote(0)), 0);
  const queued = [s.nap.remote(5_000), s.nap.remote(1), s.nap.remote(2)];
  await kill(s);
  for (const r of queued) await assert.rejects(get(r, { timeoutMs: 10_000 }), ActorDiedError);
});
