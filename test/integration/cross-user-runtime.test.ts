/**
 * Another local user against the victim's runtime files (the shared lab machine of issue 13).
 * The victim (root, umask 000, HOME in a folder everyone may enter) runs a driver whose head and
 * node both spill; the intruder (a real second user, through runuser) tries what the audit did:
 * pre-create folders at the paths Orrery used to use, list, read and replace spilled values,
 * talk to the head's worker socket, and make the sweep of dead folders delete through a link.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeFrame } from '../../orchestrator/protocol/frames.ts';
import { Head } from '../../orchestrator/head/head.ts';
import { UnsafeRuntimeDirError } from '../../orchestrator/core/errors.ts';
import { asIntruder, requireIntruder } from '../services/env.ts';
import { sleep } from './helpers.ts';

const FIXTURE = new URL('./fixtures/victim-driver.ts', import.meta.url).pathname;
const intruderOk = requireIntruder();

/** A folder the intruder may enter and read (mkdtemp makes 0700). */
function openDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `orrery-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** Every regular file under `dir` (none if it does not exist), as root sees them. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** The victim driver, stepped through its stdin. */
class Victim {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  stderr = '';

  constructor(readonly home: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    for (const k of ['ORRERY_HOME', 'XDG_RUNTIME_DIR', 'ORRERY_ADDRESS', 'ORRERY_TOKEN']) delete env[k];
    this.proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env, cwd: process.cwd() });
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      this.wake?.();
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Sends a step (none for the first reply) and resolves with the victim's JSON reply. */
  async step(command?: string): Promise<Record<string, unknown>> {
    if (command) this.proc.stdin.write(`${command}\n`);
    const end = Date.now() + 90_000;
    while (this.lines.length === 0) {
      if (this.proc.exitCode !== null || Date.now() > end)
        throw new Error(`the victim driver gave no reply to ${command ?? 'start'}: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
    return JSON.parse(this.lines.shift()!) as Record<string, unknown>;
  }

  async exited(): Promise<void> {
    if (this.proc.exitCode === null) await new Promise((r) => this.proc.once('exit', r));
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}

/** The folders the victim used to spill into, pre-created by the intruder (mode 0777) before the victim spills. */
function preCreateOldSpillFolders(...pids: number[]): string[] {
  const dirs = pids.map((pid) => `/tmp/orrery-spill-${pid}`);
  asIntruder(['sh', '-c', 'for d in "$@"; do mkdir -m 777 "$d"; chmod 777 "$d"; done; true', 'sh', ...dirs]);
  return dirs;
}

describe("another local user and the victim's spilled values and worker socket", {
  skip: !intruderOk && 'no second local user (see the message above)',
}, () => {
  let victim: Victim;
  let ready: { pid: number; agentPid: number; nodeId: string; workerSocket: string };
  let oldDirs: string[];
  let spilled: string[];

  before(async () => {
    victim = new Victim(openDir('victim-home'));
    ready = (await victim.step()) as typeof ready;
    oldDirs = preCreateOldSpillFolders(ready.pid, ready.agentPid);
    await victim.step('spill');
    spilled = [victim.home, ...oldDirs].flatMap(filesUnder).filter((f) => !lstatSync(f).isSocket());
  });
  after(() => {
    victim?.kill();
    if (oldDirs) asIntruder(['rm', '-rf', ...oldDirs]);
  });

  test('the victim spilled values of its head and of its node to disk', () => {
    assert.ok(spilled.length >= 6, `spill files: ${spilled.join(', ')}`);
  });

  test('the intruder cannot list the spill folders or read a spilled value', () => {
    for (const dir of new Set(spilled.map((f) => join(f, '..')))) {
      const ls = asIntruder(['ls', dir]);
      assert.notEqual(ls.status, 0, `the intruder listed ${dir}: ${ls.stdout}`);
    }
    for (const file of spilled) {
      const cat = asIntruder(['head', '-c', '16', file]);
      assert.notEqual(cat.status, 0, `the intruder read ${file}`);
      assert.equal(cat.stdout, '');
    }
    for (const dir of oldDirs)
      assert.deepEqual(readdirSync(dir), [], `the victim put nothing into ${dir}, which the intruder made`);
  });

  test("the intruder cannot replace spilled values: get returns the victim's own bytes", async () => {
    // Overwrite each file, or (when only the folder above is writable) swap its folder for one with forged files.
    asIntruder([
      'sh',
      '-c',
      'for f in "$@"; do printf FORGED > "$f" || { d=$(dirname "$f"); mv "$d" "$d.orig" && mkdir "$d" && printf FORGED > "$f"; }; done; true',
      'sh',
      ...spilled,
    ]);
    const checked = await victim.step('check');
    assert.deepEqual({ headOk: checked.headOk, nodeOk: checked.nodeOk }, { headOk: true, nodeOk: true });
  });

  test("the intruder cannot use the head's worker socket: nothing is answered, no backend module runs", async () => {
    const dir = openDir('intruder-socket');
    const marker = join(dir, 'module-ran');
    writeFileSync(
      join(dir, 'evil.mjs'),
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport function createBackend() { throw new Error('evil'); }\n`,
      { mode: 0o644 },
    );
    const frames = Buffer.concat(
      encodeFrame([
        { type: 'worker-hello', nodeId: ready.nodeId, workerId: 'w-intruder', secret: '' },
        { type: 'request', requestId: 1, callerTaskId: '', req: { op: 'state', query: 'nodes' } },
        {
          type: 'request',
          requestId: 2,
          callerTaskId: '',
          req: { op: 'add-backends', configs: [{ name: 'evil', kind: `module:${join(dir, 'evil.mjs')}` }] },
        },
      ] as never),
    );
    writeFileSync(join(dir, 'frames.bin'), frames, { mode: 0o644 });
    const client = `const net = require('node:net'), fs = require('node:fs');
      const [path, frames] = process.argv.slice(1);
      const s = net.createConnection(path);
      let connected = false, received = 0;
      const done = (error) => { console.log(JSON.stringify({ connected, received, error })); process.exit(0); };
      s.on('connect', () => { connected = true; s.write(fs.readFileSync(frames)); });
      s.on('data', (d) => (received += d.length));
      s.on('error', (e) => done(e.code));
      setTimeout(() => done(), 3000);`;
    const r = asIntruder([process.execPath, '-e', client, ready.workerSocket, join(dir, 'frames.bin')]);
    const seen = JSON.parse(r.stdout.trim() || '{}') as { connected?: boolean; received?: number; error?: string };
    assert.equal(seen.received ?? 0, 0, `the head answered the intruder: ${r.stdout}`);
    await sleep(500);
    assert.equal(existsSync(marker), false, "the intruder's backend module ran in the head");
  });
});

describe('a clean shutdown leaves no runtime files', {
  skip: !intruderOk && 'no second local user (see the message above)',
}, () => {
  test('after shutdown() no spill file, folder or socket of the head or its agent is left', async () => {
    const victim = new Victim(openDir('victim-home'));
    try {
      const ready = (await victim.step()) as { pid: number; agentPid: number; workerSocket: string };
      await victim.step('spill');
      const during =
        filesUnder(victim.home).length +
        filesUnder(`/tmp/orrery-spill-${ready.pid}`).length +
        filesUnder(`/tmp/orrery-spill-${ready.agentPid}`).length;
      assert.ok(during >= 6, `the victim spilled (${during} files)`);
      await victim.step('shutdown');
      await victim.exited();
      const left = [victim.home, `/tmp/orrery-spill-${ready.pid}`, `/tmp/orrery-spill-${ready.agentPid}`].flatMap(
        (d) => (existsSync(d) ? readdirSync(d, { recursive: true }).map((f) => join(d, String(f))) : []),
      );
      const runDir = join(victim.home, '.orrery', 'run');
      assert.deepEqual(
        left.filter((f) => f !== join(victim.home, '.orrery') && f !== runDir),
        [],
        'files left after shutdown',
      );
      assert.equal(existsSync(ready.workerSocket), false);
    } finally {
      victim.kill();
    }
  });
});

describe('folders another user prepared', {
  skip: !intruderOk && 'no second local user (see the message above)',
}, () => {
  test('a head refuses a run folder another user made at its path, with one error naming it, and writes nothing there', async () => {
    // A predictable ORRERY_HOME in /tmp, whose folders the intruder made first (open to all).
    const home = `/tmp/orrery-shared-home-${process.pid}`;
    asIntruder(['sh', '-c', 'mkdir -m 777 "$1" "$1/run" "$1/spill" && chmod 777 "$1" "$1/run" "$1/spill"', 'sh', home]);
    const saved = process.env.ORRERY_HOME;
    process.env.ORRERY_HOME = home;
    let head: Head | undefined;
    try {
      head = new Head({ objectStoreMemory: 100_000, log: () => {} });
      await head.requests.call(
        { op: 'put', id: 'o', payload: { data: new Uint8Array(200_000).fill(1), marked: false } },
        { jobId: '' },
      );
    } catch (err) {
      assert.ok(err instanceof UnsafeRuntimeDirError, String(err));
      assert.match(err.message, new RegExp(`^${home}/run belongs to another user \\(uid \\d+\\); .*ORRERY_HOME`));
    } finally {
      process.env.ORRERY_HOME = saved;
      await head?.shutdown();
    }
    assert.equal(head, undefined, 'the head started in a folder another user controls');
    assert.deepEqual([...readdirSync(join(home, 'run')), ...readdirSync(join(home, 'spill'))], []);
    asIntruder(['rm', '-rf', home]);
  });
});

describe("the sweep of dead processes' folders and links", {
  skip: !intruderOk && 'no second local user (see the message above)',
}, () => {
  test("a folder the intruder keeps swapping for a link to the victim's files, where dead processes' spills were swept, deletes nothing", async () => {
    const home = openDir('victim-home');
    const precious = join(home, 'precious');
    mkdirSync(precious, { mode: 0o755 });
    const names = Array.from({ length: 300 }, (_, i) => `f${i}`);
    for (const n of names) writeFileSync(join(precious, n), 'precious');
    // A pid no process has: the sweep takes its folder for a dead head's.
    const dead = 4_000_000 - (process.pid % 1000);
    const swapper = `const fs = require('node:fs');
      const [d, victim, ms] = process.argv.slice(1);
      const real = d + '.real', end = Date.now() + Number(ms);
      while (Date.now() < end) {
        try { fs.mkdirSync(real); } catch {}
        for (let i = 0; i < 300; i++) try { fs.writeFileSync(real + '/f' + i, ''); } catch {}
        try { fs.unlinkSync(d); } catch {}
        try { fs.renameSync(real, d); } catch {}
        for (let i = 0; i < 2000; i++);
        try { fs.renameSync(d, real); } catch {}
        try { fs.symlinkSync(victim, d); } catch {}
        for (let i = 0; i < 2000; i++);
      }`;
    const [uid, gid] = asIntruder(['sh', '-c', 'id -u; id -g']).stdout.trim().split('\n').map(Number);
    const intruder = spawn(process.execPath, ['-e', swapper, `/tmp/orrery-spill-${dead}`, precious, '20000'], {
      stdio: 'ignore',
      uid,
      gid,
      cwd: '/',
    });
    const saved = process.env.HOME;
    process.env.HOME = home;
    delete process.env.ORRERY_HOME;
    try {
      const swapped = `/tmp/orrery-spill-${dead}`;
      for (let i = 0; i < 400 && !existsSync(swapped) && !existsSync(`${swapped}.real`); i++) await sleep(25);
      const end = Date.now() + 8000;
      for (let i = 0; Date.now() < end && intruder.exitCode === null; i++) {
        const head = new Head({ objectStoreMemory: 100_000, log: () => {} });
        await head.requests.call(
          { op: 'put', id: `o${i}`, payload: { data: new Uint8Array(200_000).fill(1), marked: false } },
          { jobId: '' },
        );
        await head.shutdown();
      }
    } finally {
      process.env.HOME = saved;
      intruder.kill('SIGKILL');
      await new Promise((r) => (intruder.exitCode === null ? intruder.once('exit', r) : r(undefined)));
      asIntruder(['rm', '-rf', `/tmp/orrery-spill-${dead}`, `/tmp/orrery-spill-${dead}.real`]);
    }
    assert.deepEqual(readdirSync(precious).sort(), [...names].sort(), "the victim's files are all there");
    // Where the sweep looks now, the intruder cannot even put a link.
    const link = asIntruder(['ln', '-s', precious, join(home, '.orrery', 'run', `agent-x-${dead}-abcdef`)]);
    assert.notEqual(link.status, 0);
  });
});
