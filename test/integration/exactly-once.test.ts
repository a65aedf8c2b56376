/**
 * Exactly once across a lost head, as a property: a client driver submits tasks to `orrery
 * start --session`, the head is SIGKILLed at a random moment (before dispatch, while tasks run,
 * while a result is on its way, while the session is being written), `orrery start --resume`
 * finishes the run, and every task's marker file shows it ran exactly once: on the head's local
 * node, an ssh host (loopback sshd) and a Slurm allocation. Local nodes run
 * tasks over direct worker links, which the agent does not see: the workers tell it what they
 * hold when the head goes (agent/direct-link-tasks.ts). The client driver keeps waiting and
 * gets every result from the resumed head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import { sleep, tempDir, until } from './helpers.ts';
import { requireService, slurmService, sshService } from '../services/env.ts';

const MAIN = 'orchestrator/cli/main.ts';
const DRIVER = new URL('./fixtures/marker-driver.ts', import.meta.url).pathname;
const ROUNDS = 6;
const TASKS = 6;
const TASK_MS = 4000;
const SSH_HOST = `${sshService.user}@${sshService.host}:${sshService.port}`;
const LOGIN = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };
/**
 * The first rounds kill the head at once and just after the submissions arrive (before the
 * session's 50 ms write, before dispatch); the rest at random moments of the run.
 */
const KILL_AT = [0, 30];

function startHead(home: string, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--port', '0', ...args], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}

async function headUp(home: string, head: { child: ChildProcess; out: () => string }): Promise<void> {
  await until(
    'the head to start',
    () => {
      if (head.child.exitCode !== null) throw new Error(`orrery start exited: ${head.out()}`);
      return existsSync(join(home, 'head.json')) && /session:/.test(head.out());
    },
    60_000,
  );
}

function finishedTasks(home: string): number {
  process.env.ORRERY_HOME = home;
  const r = new SessionStore().open('lid');
  try {
    return r.tasks({ name: 'step' }).filter((t) => t.state === 'FINISHED').length;
  } finally {
    r.close();
  }
}

/** Where the tasks run: the head's own local node, or a backend of the config file. */
const WHERE = {
  local: { rounds: ROUNDS, backend: undefined },
  ssh: { rounds: 4, backend: { name: 'lab', kind: 'ssh', hosts: [SSH_HOST], ...LOGIN } },
  slurm: {
    rounds: 4,
    backend: {
      name: 'hpc',
      kind: 'slurm',
      loginHost: SSH_HOST,
      partition: slurmService.partition,
      cpusPerNode: 2,
      maxNodes: 1,
      idleTimeoutS: 600,
      ...LOGIN,
    },
  },
} as const;

for (const where of ['local', 'ssh', 'slurm'] as const) {
  const { rounds, backend } = WHERE[where];
  test(`${where}: SIGKILL the head at random moments over ${rounds} rounds: after --resume every task ran exactly once, and the driver got every result`, async (t) => {
    if (where !== 'local' && !requireService(where, t)) return;
    const savedHome = process.env.ORRERY_HOME;
    const outcomes: string[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        const home = tempDir('lid-home');
        const markers = tempDir('lid-markers');
        chmodSync(markers, 0o777); // the ssh test user writes there too
        const config = join(home, 'orrery.json');
        writeFileSync(config, JSON.stringify({ backends: backend ? [backend] : [] }));
        const first = startHead(home, ['--session', 'lid', '--config', config]);
        await headUp(home, first);
        const driver = spawn(
          process.execPath,
          ['--import', 'tsx', DRIVER, markers, String(TASKS), String(TASK_MS), '', backend?.name ?? ''],
          { env: { ...process.env, ORRERY_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let driverOut = '';
        driver.stdout!.on('data', (d) => (driverOut += d));
        await until('the driver to submit', () => driverOut.includes('SUBMITTED'), 60_000);
        // Somewhere in the run: 6 tasks of 4 s on two CPUs take about 12 s, longer than a head needs to come back.
        const delay = KILL_AT[round] ?? Math.round(Math.random() * (TASKS / 2) * TASK_MS);
        await sleep(delay);
        first.child.kill('SIGKILL');
        await new Promise((r) => first.child.once('exit', r));
        const second = startHead(home, ['--resume', 'lid', '--config', config]);
        const driverExit = new Promise<number | null>((r) => driver.once('exit', (code) => r(code)));
        try {
          await headUp(home, second);
          await until(
            `every task to finish in the session (head killed ${delay} ms after submission)`,
            () => finishedTasks(home) >= TASKS,
            120_000,
          ).catch((err: Error) => {
            throw new Error(
              `${err.message}\nthe first head said:\n${first.out()}\nthe resumed head said:\n${second.out()}`,
            );
          });
          // The driver's pending get() completes on the resumed head, with every result.
          assert.equal(await driverExit, 0, driverOut);
          assert.ok(driverOut.includes(`RESULTS ${JSON.stringify([...Array(TASKS).keys()])}`), driverOut);
          assert.ok(driverOut.includes(`AFTER ${TASKS}`), `a task submitted after the reconnect ran: ${driverOut}`);
        } finally {
          second.child.kill('SIGTERM');
          await new Promise((r) => second.child.once('exit', r));
          driver.kill('SIGKILL');
        }
        // The task the driver submitted after reconnecting ran once too.
        const runs = Array.from({ length: TASKS + 1 }, (_, i) => {
          const f = join(markers, `ran-${i}`);
          return existsSync(f) ? readFileSync(f, 'utf8').length : 0;
        });
        outcomes.push(`${where} round ${round}, killed ${delay} ms after submission: runs ${runs.join(' ')}`);
        assert.deepEqual(runs, new Array(TASKS + 1).fill(1), outcomes.join('\n'));
      }
    } finally {
      if (savedHome === undefined) delete process.env.ORRERY_HOME;
      else process.env.ORRERY_HOME = savedHome;
    }
    console.log(outcomes.join('\n'));
  });
}

test('a driver whose head does not come back gives up after reconnectTimeoutMs with one clear error', async () => {
  const home = tempDir('lid-gone');
  const markers = join(home, 'markers');
  mkdirSync(markers);
  // Nobody resumes it: its agent ends soon after.
  const head = startHead(home, ['--session', 'gone', '--agent-grace', '5s']);
  await headUp(home, head);
  const driver = spawn(process.execPath, ['--import', 'tsx', DRIVER, markers, '2', '30000', '2000'], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  driver.stdout!.on('data', (d) => (out += d));
  driver.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => driver.once('exit', (code) => r(code)));
  try {
    await until('the driver to submit', () => out.includes('SUBMITTED'), 60_000);
    head.child.kill('SIGKILL');
    const killed = Date.now();
    assert.equal(await exited, 3, out);
    const waited = Date.now() - killed;
    assert.ok(waited >= 1500 && waited < 20_000, `gave up ${waited} ms after the head died`);
    assert.match(out, /trying to reach it again for 2 s/);
    assert.match(
      out,
      /FAILED HeadConnectionLostError: lost the connection to the head at ws:\/\/127\.0\.0\.1:\d+ \(closed \(1006\); no head answered within 2 s \(last: .*\)\)/,
    );
  } finally {
    driver.kill('SIGKILL');
    head.child.kill('SIGKILL');
  }
});
