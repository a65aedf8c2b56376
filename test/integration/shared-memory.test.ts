/**
 * The shared-memory object store with real processes (a driver, its head, a local agent and its
 * workers): a 100 MB Float64Array through an identity task arrives equal and as a mapped view
 * (one file, no copy after the put); a task writing into its argument changes nothing for other
 * readers; many readers of one object; a reader while the object is freed; spilling while read;
 * private folders and files; the fallback without the native addon gives the same results; after
 * SIGKILL of a head and its agent the next start sweeps their folders and leaves a live owner's;
 * an ssh node (another user, as another machine would be) gets values as bytes, never paths;
 * a shared-memory root open to others is not used (values travel as bytes, with a warning).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { get, init, put, remote, shutdown } from 'orrery-compute';
import { createSshBackend } from '../../backends/ssh/index.ts';
import { LocalBackend } from '../../backends/local/local-backend.ts';
import { ShmFolder, shmRoot } from '../../orchestrator/core/shared-memory.ts';
import { Head } from '../../orchestrator/head/head.ts';
import { requireService, sshService } from '../services/env.ts';
import { tempDir } from './helpers.ts';

const sshUp = requireService('ssh');

const DRIVER = new URL('./fixtures/shm-driver.ts', import.meta.url).pathname;
const CRASH_DRIVER = new URL('./fixtures/shm-crash-driver.ts', import.meta.url).pathname;
const ADDON = new URL(`../../native/shm-map/build/${process.platform}-${process.arch}/shm_map.node`, import.meta.url)
  .pathname;

/** Runs the driver fixture in a child process (with `env`) and returns what it printed. */
async function runDriver(env: Record<string, string>): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', DRIVER, tempDir('shm-home')],
    { timeout: 240_000, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Waits until processes `pids` have ended (killed ones may take a moment to be reaped). */
async function gone(pids: readonly number[]): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
}

/** What both read paths must show alike. */
function sameResults(r: Record<string, unknown>): void {
  assert.equal(r.identityEqual, true, 'the array came back changed');
  assert.equal(r.writerSaw, 42.5, 'the writing task sees its own write');
  assert.deepEqual(r.writerResult, [0, -7], 'a returned written argument carries the write');
  assert.deepEqual(r.afterWriters, [0, 0.5, 2.5], 'the object is unchanged for the driver after tasks wrote into it');
  assert.equal(r.readerAfterWriters, r.expectedSum, 'a later reader sees the unchanged object');
  assert.deepEqual(r.readers, Array(12).fill(r.readersExpected), 'every concurrent reader sees the whole object');
  assert.equal(r.fileGoneAfterFree, true, 'the value’s file goes once the object is freed');
  assert.deepEqual(r.viewAfterFree, [0.5, 6249999.5, true], 'a view taken before the free stays valid');
  assert.equal(r.keptAfterFreeAndPuts, 6e6, 'a freed value another process maps changed when later puts came');
  assert.deepEqual(r.foldersAfterShutdown, { agents: [] }, 'no folder outlives its head and agent');
  assert.deepEqual(r.spillSums, [2e6, 4e6, 6e6, 8e6, 1e7], 'readers see spilled objects whole');
  assert.deepEqual(r.spillGets, [1, 2, 3, 4, 5]);
  assert.ok((r.spilled as number) > 0, 'past the budget objects were spilled');
  assert.deepEqual(r.agentSpillSums, [2e6, 4e6, 6e6, 8e6, 1e7], 'readers see task results the node spilled whole');
  assert.deepEqual(r.agentSpillGets, [1, 2, 3, 4, 5]);
  assert.ok((r.agentSpillFiles as number) > 0, 'past the budget the node spilled task results');
  assert.equal(r.rootMode, 0o700);
  assert.equal(r.headFolderMode, 0o700);
  assert.deepEqual(r.agentFolderModes, [0o700]);
  assert.deepEqual(r.headFileModes, [0o600]);
  assert.deepEqual(r.agentFileModes, [0o600]);
}

describe('shared memory with the native addon (mapped views)', () => {
  let r: Record<string, unknown>;
  before(async () => {
    // CI builds it in `npm run build`; a checkout that did not yet gets it here (cc and Node's headers).
    if (!existsSync(ADDON))
      execFileSync(process.execPath, [new URL('../../native/shm-map/build.mjs', import.meta.url).pathname]);
    r = await runDriver({});
  });

  test('the addon is in use', () => {
    assert.deepEqual(r.mode, { mode: 'mmap', reason: '' });
  });

  test('100 MB put, identity task, get: equal, a mapped view, and one file for put and result', () => {
    assert.equal(r.identityMapped, true, 'get returned a copy, not the mapped file');
    assert.equal(
      r.maxLinks,
      3,
      'the put file, the agent result and the head copy should be one file (an unchanged argument returned is not copied)',
    );
  });

  test('writers, concurrent readers, a free while read, spilling, private files', () => sameResults(r));
});

describe('shared memory without the addon (ORRERY_SHM_NATIVE=0: plain file reads)', () => {
  let r: Record<string, unknown>;
  before(async () => {
    r = await runDriver({ ORRERY_SHM_NATIVE: '0' });
  });

  test('says which path it uses and why', () => {
    assert.deepEqual(r.mode, { mode: 'read', reason: 'ORRERY_SHM_NATIVE=0' });
    assert.equal(r.identityMapped, false);
  });

  test('the same results as the mapped path', () => sameResults(r));
});

describe('after SIGKILL of a head and its agent', () => {
  const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
  let live: ReturnType<typeof spawn> | undefined;
  let liveFolder = '';
  let folder: ShmFolder | undefined;
  after(() => {
    live?.kill('SIGKILL');
    if (liveFolder) rmSync(liveFolder, { recursive: true, force: true });
    folder?.close();
  });

  test('the next start removes their folders and leaves a live owner folder alone', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CRASH_DRIVER, tempDir('shm-crash-home')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the crash driver did not report its folders within 120 s')),
        120_000,
      );
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) {
          clearTimeout(timer);
          resolve(text.split('\n')[0]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`the crash driver exited (${code}) before reporting: ${text}`)));
    });
    const owned = JSON.parse(line) as { name: string; pid: number; path: string; files: number }[];
    assert.deepEqual(owned.map((d) => d.name.split('-')[0]).sort(), ['agent', 'head']);
    assert.ok(
      owned.every((d) => d.files > 0),
      'head and agent each hold a value in shared memory',
    );
    // The agent first: killed head-first, it would see its stream end and clean up.
    const agentFirst = [
      ...owned.filter((d) => d.name.startsWith('agent-')),
      ...owned.filter((d) => d.name.startsWith('head-')),
    ];
    for (const d of agentFirst) process.kill(d.pid, 'SIGKILL');
    await new Promise((r) => child.once('exit', r).once('error', r));
    await gone(owned.map((d) => d.pid));
    for (const d of owned) assert.ok(existsSync(d.path), `${d.name} was left behind by the crash`);

    // Another live process's folder (same user, same host) must survive the sweep.
    live = spawn('sleep', ['600'], { stdio: 'ignore' });
    liveFolder = join(shmRoot(), `head-${HOST}-${live.pid}-LiVe00`);
    mkdirSync(liveFolder, { mode: 0o700 });

    folder = ShmFolder.create('head', (line) => assert.fail(line));
    assert.ok(folder, 'this machine has shared memory');
    for (const d of owned) assert.equal(existsSync(d.path), false, `${d.name} should have been swept`);
    assert.ok(existsSync(liveFolder), 'a live owner folder was removed');
  });
});

describe('an ssh node next to a local one', {
  skip: !sshUp && 'the test sshd is not running (see the message above)',
}, () => {
  let head: Head;
  before(async () => {
    head = new Head({ log: () => {}, infeasibleGraceMs: 30_000 });
    await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
    await head.addBackend(
      createSshBackend({
        kind: 'ssh',
        name: 'shm-remote',
        hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
        identityFile: sshService.keyPath,
        knownHostsFile: sshService.knownHostsPath,
      }),
    );
    await init({ cluster: { head }, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await head?.shutdown();
  });

  test('gets shared-memory values as bytes: arguments, get inside a task, and its own large results', async () => {
    const a = new Float64Array(1_000_000).map((_, i) => i % 13);
    const expected = a.reduce((s, v) => s + v, 0);
    const ref = put(a);
    const sum = remote({ backend: 'shm-remote' }, (x: Float64Array) => x.reduce((s, v) => s + v, 0));
    assert.equal(await get(sum.remote(ref)), expected, 'a put in shared memory as a run argument');
    const nested = remote({ backend: 'shm-remote' }, async (box: { ref: typeof ref }) => {
      const { get } = await import('orrery-compute');
      return (await get(box.ref)).reduce((s, v) => s + v, 0);
    });
    assert.equal(await get(nested.remote({ ref })), expected, 'a put in shared memory through get in a task');
    const makes = remote({ backend: 'shm-remote' }, () => new Float64Array(1_000_000).fill(2));
    const made = await get(makes.remote());
    assert.equal(made.length, 1_000_000);
    assert.equal(made[999_999], 2);
    const local = remote({ backend: 'local' }, (x: Float64Array) => x[999_999]);
    assert.equal(await get(local.remote(makes.remote())), 2, 'a remote node value read by a local task');
  });
});

describe('a shared-memory root that is not private', () => {
  test('is not used: the head says why and values still go through tasks', async () => {
    const root = shmRoot();
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o755);
    const logs: string[] = [];
    const head = new Head({ log: (l) => logs.push(l) });
    try {
      await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
      await init({ cluster: { head }, logToDriver: false });
      const a = new Float64Array(500_000).fill(6);
      const back = await get(remote((x: Float64Array) => x).remote(put(a)));
      assert.equal(back.length, a.length);
      assert.equal(back[499_999], 6);
      assert.equal(head.shm, undefined);
      assert.ok(
        logs.some((l) => /shared memory is not used: .*orrery-\d+ is open to group or others/.test(l)),
        logs.join('\n'),
      );
    } finally {
      chmodSync(root, 0o700);
      await shutdown();
      await head.shutdown();
    }
  });
});
