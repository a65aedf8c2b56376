/**
 * `orrery cancel`, `orrery kill` and `orrery timeline` as subprocesses against a real
 * `orrery start` child process, with a driver in this process making the tasks and actors.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, shutdown, remote, get } from 'orrery-compute';
import { tempDir, until } from './helpers.ts';

interface HeadInfo {
  address: string;
  token: string;
}

let home = '';
let child: ChildProcess;
let info: HeadInfo;

/** Runs the CLI with this test's ORRERY_HOME (no --address: it finds the head in head.json). */
function orrery(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'orchestrator/cli/main.ts', ...args],
      { env: { ...process.env, ORRERY_HOME: home, ORRERY_ADDRESS: '', ORRERY_TOKEN: '' }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function tasksNamed(name: string): Promise<{ taskId: string; state: string }[]> {
  const r = await orrery('list', 'tasks', '--filter', `name=${name}`, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('CLI control of a running head', { timeout: 300_000 }, () => {
  before(async () => {
    home = tempDir('cli-control');
    child = spawn(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'start', '--port', '0'], {
      env: { ...process.env, ORRERY_HOME: home },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const file = join(home, 'head.json');
    await until(
      'the service to write head.json',
      () => {
        if (child.exitCode !== null) throw new Error(`orrery start exited with ${child.exitCode}`);
        return existsSync(file) && /dashboard:/.test(out);
      },
      60_000,
    );
    info = JSON.parse(readFileSync(file, 'utf8')) as HeadInfo;
    await init({ address: info.address, token: info.token, namespace: 'ctl', logToDriver: false });
  });

  after(async () => {
    await shutdown();
    child.kill('SIGTERM');
  });

  test('orrery cancel fails a running task with TaskCancelledError', async () => {
    const sleeper = remote({ name: 'cli_sleeper' }, async () => {
      await new Promise((r) => setTimeout(r, 60_000));
      return 'woke';
    });
    const ref = sleeper.remote();
    const [row] = await until(
      'the task to run',
      async () => (await tasksNamed('cli_sleeper')).filter((t) => t.state === 'RUNNING'),
      60_000,
    );
    const r = await orrery('cancel', row!.taskId, '--force');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`cancelled task ${row!.taskId} \\(forced\\)`));
    await assert.rejects(get(ref), { name: 'TaskCancelledError' });
  });

  test('orrery kill kills a named actor; later calls fail with ActorDiedError', async () => {
    class Counter {
      n = 0;
      inc() {
        return ++this.n;
      }
    }
    const c = remote(Counter).options({ name: 'cli_counter' }).remote();
    assert.equal(await get(c.inc.remote()), 1);
    const r = await orrery('kill', 'cli_counter', '--namespace', 'ctl');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^killed actor \S+ \(cli_counter\)/);
    await until(
      'the actor to be DEAD',
      async () => {
        const l = await orrery('list', 'actors', '--filter', 'name=cli_counter', '--json');
        return (JSON.parse(l.stdout) as { state: string }[]).some((a) => a.state === 'DEAD');
      },
      30_000,
    );
    await assert.rejects(get(c.inc.remote()), { name: 'ActorDiedError' });
  });

  test('orrery timeline writes one X event per finished task, with sane ts/dur and pid/tid', async () => {
    const work = remote({ name: 'cli_timed' }, async (i: number) => {
      await new Promise((r) => setTimeout(r, 50));
      return i;
    });
    const before = Date.now();
    assert.deepEqual(await get([0, 1, 2, 3].map((i) => work.remote(i))), [0, 1, 2, 3]);
    const after = Date.now();
    const file = join(home, 'trace.json');
    const r = await orrery('timeline', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote \d+ task events to /);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as {
      traceEvents: {
        name: string;
        ph: string;
        ts: number;
        dur: number;
        pid: string;
        tid: string;
        args: { taskId: string; state: string };
      }[];
    };
    const mine = trace.traceEvents.filter((e) => e.name === 'cli_timed');
    assert.equal(mine.length, 4);
    assert.equal(new Set(mine.map((e) => e.args.taskId)).size, 4);
    for (const e of mine) {
      assert.equal(e.ph, 'X');
      assert.equal(e.args.state, 'FINISHED');
      assert.ok(e.ts >= (before - 1000) * 1000 && e.ts <= after * 1000, `ts ${e.ts}`);
      assert.ok(e.dur >= 40_000 && e.dur < 30_000_000, `dur ${e.dur}`);
      assert.ok(e.ts + e.dur <= (after + 1000) * 1000);
      assert.match(e.pid, /^node \S+/);
      assert.match(e.tid, /^worker \d+$/);
    }
    // Tasks overlapping in time on one node are on different lanes.
    for (const a of mine)
      for (const b of mine)
        if (a !== b && a.pid === b.pid && a.tid === b.tid)
          assert.ok(a.ts + a.dur <= b.ts || b.ts + b.dur <= a.ts, 'two tasks overlap on one lane');
  });

  test('unknown task or actor: one clear line, exit 1; no head: the no-head message', async () => {
    for (const [args, msg] of [
      [['cancel', 'no-such-task'], /no task no-such-task on this head; see orrery list tasks/],
      [['kill', 'no_such_actor'], /no live actor with id or name no_such_actor on this head; see orrery list actors/],
      [['kill', 'cli_counter', '--namespace', 'ctl'], /no live actor with id or name cli_counter in namespace ctl/],
      [['cancel'], /orrery cancel needs a task id/],
      [['timeline'], /orrery timeline needs a file/],
    ] as const) {
      const r = await orrery(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^orrery: /);
      assert.match(r.stderr, msg);
    }
    const saved = home;
    home = tempDir('cli-nohead');
    try {
      const r = await orrery('cancel', 'x');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^orrery: no head is running .*start one with `orrery start`/);
    } finally {
      home = saved;
    }
  });
});
