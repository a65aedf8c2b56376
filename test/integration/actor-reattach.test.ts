/**
 * Actors across a lost head: a real `orrery start --session` head is SIGKILLed and `orrery
 * start --resume` takes over, with client drivers (test/integration/fixtures/actor-driver.ts)
 * before and after. The actor's agent outlives the head and the resumed head adopts the actor
 * with its worker and state (marker files count constructor runs and calls); when the agent is
 * killed too, the actor restarts under its maxRestarts and the session records why, or, with
 * none, callers get one clear ActorDiedError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore, type SessionReader } from '../../orchestrator/sessions/index.ts';
import { tempDir, until } from './helpers.ts';
import { requireService, slurmService, sshService } from '../services/env.ts';

const MAIN = 'orchestrator/cli/main.ts';
const DRIVER = new URL('./fixtures/actor-driver.ts', import.meta.url).pathname;

interface Proc {
  readonly child: ChildProcess;
  out(): string;
  readonly exited: Promise<number | null>;
}

function spawnLogged(args: string[], home: string, env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, ...env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

async function startHead(home: string, args: string[]): Promise<Proc> {
  const head = spawnLogged([MAIN, 'start', '--port', '0', ...args], home);
  await until(
    'the head to start',
    () => {
      if (head.child.exitCode !== null) throw new Error(`orrery start exited: ${head.out()}`);
      return existsSync(join(home, 'head.json')) && /session:/.test(head.out());
    },
    60_000,
  );
  return head;
}

async function killHead(head: Proc): Promise<void> {
  head.child.kill('SIGKILL');
  await head.exited;
}

async function stopHead(head: Proc): Promise<void> {
  if (head.child.exitCode !== null) return;
  head.child.kill('SIGTERM');
  await head.exited;
}

/** Runs one step of the actor driver to its end; returns its output. */
async function driverStep(
  home: string,
  markers: string,
  env: Record<string, string>,
  ...step: string[]
): Promise<string> {
  const d = spawnLogged([DRIVER, markers, ...step], home, env);
  const code = await d.exited;
  return `${d.out()}\n(exit ${code})`;
}

/** How many times a marker file was appended to (0 when it does not exist). */
function runs(markers: string, name: string): number {
  const f = join(markers, name);
  return existsSync(f) ? readFileSync(f, 'utf8').length : 0;
}

/** Process ids of the local agents the head left in `<home>/run` (their `<base>.json`). */
function agentPids(home: string): number[] {
  const dir = join(home, 'run');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { pid: number }).pid);
}

/** Reads session `session` of `home` (the store finds sessions under ORRERY_HOME). */
function withSession<T>(home: string, session: string, read: (r: SessionReader) => T): T {
  const saved = process.env.ORRERY_HOME;
  process.env.ORRERY_HOME = home;
  const r = new SessionStore().open(session);
  try {
    return read(r);
  } finally {
    r.close();
    if (saved === undefined) delete process.env.ORRERY_HOME;
    else process.env.ORRERY_HOME = saved;
  }
}

/** The recorded changes of the MarkedCounter actor in session `session`. */
function actorEvents(home: string, session: string): { state: string; detail: string | null }[] {
  return withSession(home, session, (r) => {
    const life = r.actorLives().find((l) => l.creation.name.includes('MarkedCounter'));
    return life ? r.actorEvents(life.actorId) : [];
  });
}

/** The recorded state of the first call of method `method` in session `session`. */
function callState(home: string, session: string, method: string): string | undefined {
  return withSession(home, session, (r) => r.tasks({ limit: 100_000 }).find((t) => t.method === method)?.state);
}

/**
 * Waits until session `act` recorded the actor and its five calls as finished. With its agent
 * killed too, nothing but the session tells the next head what happened: a call whose result
 * reached the driver but not yet the session (it is written in batches) would rightly run again.
 */
async function sessionCaughtUp(home: string): Promise<void> {
  await until(
    'the session to record the actor and its five calls',
    () =>
      withSession(home, 'act', (r) => {
        const finished = r.tasks({ limit: 100_000 }).filter((t) => t.state === 'FINISHED');
        return finished.filter((t) => t.method === 'incr').length === 5 && r.actorLives()[0]?.state === 'ALIVE';
      }),
    10_000,
  );
}

/** The session's actors and their recorded changes, for a failure message. */
function sessionActors(home: string, session: string): string {
  return withSession(home, session, (r) =>
    JSON.stringify(
      r.actorLives().map((l) => ({ ...l, info: r.taskInfo(l.creation.taskId), events: r.actorEvents(l.actorId) })),
    ),
  );
}

function setUp(prefix: string): { home: string; markers: string } {
  const home = tempDir(prefix);
  const markers = tempDir(`${prefix}-markers`);
  chmodSync(markers, 0o777); // the ssh test user writes there too
  return { home, markers };
}

const BACKEND_NAME = { ssh: 'lab', slurm: 'hpc' } as const;

/** A config file with the loopback sshd as backend `lab` and the Slurm cluster behind it as `hpc`. */
function remoteConfig(home: string): string {
  const file = join(home, 'orrery.json');
  const host = `${sshService.user}@${sshService.host}:${sshService.port}`;
  const login = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };
  const lab = { name: 'lab', kind: 'ssh', hosts: [host], ...login };
  const hpc = {
    name: 'hpc',
    kind: 'slurm',
    loginHost: host,
    partition: slurmService.partition,
    cpusPerNode: 2,
    maxNodes: 1,
    idleTimeoutS: 600,
    ...login,
  };
  writeFileSync(file, JSON.stringify({ backends: [lab, hpc] }));
  return file;
}

for (const where of ['local', 'ssh', 'slurm'] as const) {
  test(`${where}: a detached named actor keeps its state across a SIGKILLed head: a new driver gets it by name and counts on`, async (t) => {
    if (where !== 'local' && !requireService(where, t)) return;
    const { home, markers } = setUp('actor-keep');
    const headArgs = where === 'local' ? [] : ['--config', remoteConfig(home)];
    const env: Record<string, string> = where === 'local' ? {} : { ORRERY_TEST_ACTOR_BACKEND: BACKEND_NAME[where] };
    const first = await startHead(home, ['--session', 'act', ...headArgs]);
    let second: Proc | undefined;
    try {
      assert.match(await driverStep(home, markers, env, 'create', '0'), /COUNT 5/);
      await killHead(first);
      second = await startHead(home, ['--resume', 'act', ...headArgs]);
      const out = await driverStep(home, markers, env, 'use');
      assert.match(out, /COUNT 6/, `${out}\nhead: ${second.out()}`);
      assert.equal(
        runs(markers, 'constructed'),
        1,
        'the constructor ran once: the resumed head adopted the same worker',
      );
      assert.equal(runs(markers, 'incr'), 6);
      if (where !== 'local')
        assert.notEqual(
          statSync(join(markers, 'constructed')).uid,
          process.getuid!(),
          'the ssh test user ran the actor',
        );
      assert.match(second.out(), /resumed actor MarkedCounter/);
      const events = actorEvents(home, 'act');
      assert.ok(
        events.some((e) => /adopted from the agent/.test(e.detail ?? '')),
        JSON.stringify(events),
      );
    } finally {
      await stopHead(first);
      if (second) await stopHead(second);
    }
  });
}

test('a method call in flight when the head is SIGKILLed runs once, and it and the call queued behind it reach the driver', async () => {
  const { home, markers } = setUp('actor-inflight');
  const first = await startHead(home, ['--session', 'act']);
  let second: Proc | undefined;
  let driver: Proc | undefined;
  try {
    assert.match(await driverStep(home, markers, {}, 'create', '0'), /COUNT 5/);
    driver = spawnLogged([DRIVER, markers, 'inflight'], home);
    await until('the slow call to start', () => runs(markers, 'slow') > 0, 60_000);
    // The session the next head resumes from has it (it is written in batches, every 50 ms).
    await until(
      'the session to show the slow call running',
      () => callState(home, 'act', 'slow') === 'RUNNING',
      10_000,
    );
    await killHead(first);
    second = await startHead(home, ['--resume', 'act']);
    const code = await driver.exited;
    const out = driver.out();
    assert.equal(code, 0, `${out}\nhead: ${second.out()}`);
    assert.match(out, /SLOW 6/);
    assert.match(out, /AFTER 7/);
    assert.equal(runs(markers, 'slow'), 1, 'the call in flight at the kill ran once');
    assert.equal(runs(markers, 'incr'), 6, 'the call queued behind it ran once');
    assert.equal(runs(markers, 'constructed'), 1);
  } finally {
    driver?.child.kill('SIGKILL');
    await stopHead(first);
    if (second) await stopHead(second);
  }
});

test('calls the dead head never dispatched (its actor was still being constructed) run once each, in order, on the adopted actor', async () => {
  const { home, markers } = setUp('actor-queued');
  const first = await startHead(home, ['--session', 'act']);
  let second: Proc | undefined;
  let driver: Proc | undefined;
  try {
    driver = spawnLogged([DRIVER, markers, 'queued'], home);
    await until('the constructor to start', () => runs(markers, 'constructed') > 0, 60_000);
    await until(
      'the session to record the three calls',
      () =>
        withSession(home, 'act', (r) => r.tasks({ limit: 100_000 }).filter((t) => t.method === 'incr').length) === 3,
      10_000,
    );
    await killHead(first);
    second = await startHead(home, ['--resume', 'act']);
    const code = await driver.exited;
    const out = driver.out();
    assert.equal(code, 0, `${out}\nhead: ${second.out()}`);
    assert.match(out, /CALLS \[1,2,3\]/);
    // The new head dispatched them from the session: the driver had sent them to the dead head only.
    assert.match(second.out(), /resumed actor MarkedCounter/);
    assert.match(second.out(), /3 unfinished task\(s\) submitted again/);
    assert.equal(runs(markers, 'constructed'), 1, 'the constructor that was running at the kill ran once');
    assert.equal(runs(markers, 'incr'), 3, 'each queued call ran once');
  } finally {
    driver?.child.kill('SIGKILL');
    await stopHead(first);
    if (second) await stopHead(second);
  }
});

test('an actor whose agent died with the head restarts under maxRestarts on the resumed head, and the session says why', async () => {
  const { home, markers } = setUp('actor-restart');
  const first = await startHead(home, ['--session', 'act']);
  let second: Proc | undefined;
  try {
    assert.match(await driverStep(home, markers, {}, 'create', '1'), /COUNT 5/);
    const pids = agentPids(home);
    assert.ok(pids.length > 0, 'the head left its agent in <home>/run');
    await sessionCaughtUp(home);
    await killHead(first);
    // The agent and its workers (its own process group) go too: the actor's state is lost.
    for (const pid of pids) process.kill(-pid, 'SIGKILL');
    second = await startHead(home, ['--resume', 'act']);
    const out = await driverStep(home, markers, {}, 'use');
    assert.match(out, /COUNT 1/, `${out}\nhead: ${second.out()}\nsession: ${sessionActors(home, 'act')}`);
    assert.equal(runs(markers, 'constructed'), 2, 'created again once');
    assert.match(second.out(), /restarting it \(restart 1 of maxRestarts 1\)/);
    const events = actorEvents(home, 'act');
    const restart = events.find((e) => e.state === 'RESTARTING');
    assert.ok(restart, JSON.stringify(events));
    assert.match(restart.detail ?? '', /restart 1 of 1: no agent reported it when the head resumed the session/);
  } finally {
    await stopHead(first);
    if (second) await stopHead(second);
  }
});

test('an actor with maxRestarts 0 whose agent died with the head is dead: callers get one clear ActorDiedError', async () => {
  const { home, markers } = setUp('actor-dead');
  const first = await startHead(home, ['--session', 'act']);
  let second: Proc | undefined;
  try {
    assert.match(await driverStep(home, markers, {}, 'create', '0'), /COUNT 5/);
    const pids = agentPids(home);
    await sessionCaughtUp(home);
    await killHead(first);
    for (const pid of pids) process.kill(-pid, 'SIGKILL');
    second = await startHead(home, ['--resume', 'act']);
    const out = await driverStep(home, markers, {}, 'use');
    assert.match(
      out,
      /FAILED ActorDiedError: actor MarkedCounter \(\w+\) is dead: no agent reported it when the head resumed the session .*and it may not restart \(maxRestarts 0\); create it again/,
      `${out}\nhead: ${second.out()}`,
    );
    assert.match(out, /\(exit 3\)/);
    assert.equal(runs(markers, 'constructed'), 1, 'not created again');
    const events = actorEvents(home, 'act');
    assert.equal(events.at(-1)?.state, 'DEAD', JSON.stringify(events));
  } finally {
    await stopHead(first);
    if (second) await stopHead(second);
  }
});
