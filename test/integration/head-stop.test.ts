/**
 * Stopping a head whose backends do not stop cleanly. Backend shutdowns are independent (one
 * that throws or hangs does not keep the others from shutting down, every failure is reported,
 * the head still ends), and `orrery stop` tells a clean stop from a head that crashed while
 * stopping or died without saying how it stopped: non-zero, one line, the reason and the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init, isInitialized, shutdown } from 'orrery-compute';
import { Head } from '../../orchestrator/head/head.ts';
import { BackendShutdownError } from '../../orchestrator/core/errors.ts';
import { createBackend } from './fixtures/shutdown-backend.ts';
import { tempDir, until, alive } from './helpers.ts';

const REPO = process.cwd();
const MAIN = join(REPO, 'orchestrator/cli/main.ts');
const TSX = join(REPO, 'node_modules/tsx/dist/loader.mjs');
const FIXTURE = join(REPO, 'test/integration/fixtures/shutdown-backend.ts');

/** A directory with orrery.json naming the shutdown fixture by a path relative to it (a link to the fixture sits beside it). */
function configDir(backends: Record<string, unknown>[]): string {
  const dir = tempDir('stop-cfg');
  symlinkSync(FIXTURE, join(dir, 'shutdown-backend.ts'));
  writeFileSync(
    join(dir, 'orrery.json'),
    JSON.stringify({ backends: backends.map((b) => ({ kind: 'module:./shutdown-backend.ts', ...b })) }),
  );
  return dir;
}

/** Runs the CLI in `cwd` with its own ORRERY_HOME; resolves with its exit code and output. */
function orrery(home: string, cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd, env: { ...process.env, ORRERY_HOME: home }, timeout: 120_000 },
      (err, stdout, stderr) => {
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Starts `orrery start --port 0 --config orrery.json` in `dir`; resolves once head.json names it. */
async function startHead(
  home: string,
  dir: string,
): Promise<{ pid: number; exited: Promise<number | null>; stdout(): string }> {
  const child = spawn(
    process.execPath,
    ['--import', TSX, MAIN, 'start', '--port', '0', '--config', join(dir, 'orrery.json')],
    { cwd: dir, env: { ...process.env, ORRERY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const file = join(home, 'head.json');
  await until(
    'the head to write head.json',
    () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`orrery start exited with ${child.exitCode ?? child.signalCode}: ${err}`);
      return existsSync(file) && /dashboard:/.test(out) && JSON.parse(readFileSync(file, 'utf8')).pid === child.pid;
    },
    60_000,
  );
  return { pid: child.pid!, exited, stdout: () => out };
}

test('a backend whose shutdown throws does not keep the next one from shutting down; shutdown() reports it', async () => {
  const dir = tempDir('stop-embedded');
  const marker = join(dir, 'recorded');
  await init({
    numCpus: 1,
    logToDriver: false,
    backends: [
      { name: 'thrower', kind: `module:${FIXTURE}`, onShutdown: 'throw' },
      { name: 'recorder', kind: `module:${FIXTURE}`, onShutdown: 'record', marker },
    ],
  });
  await assert.rejects(shutdown(), (err: Error) => {
    assert.ok(err instanceof BackendShutdownError, String(err));
    assert.match(err.message, /backend thrower: thrower refuses to shut down/);
    assert.deepEqual(
      err.failures.map((f) => f.backend),
      ['thrower'],
    );
    return true;
  });
  assert.equal(readFileSync(marker, 'utf8'), 'recorder shut down\n');
  assert.equal(isInitialized(), false);
});

test('a backend whose shutdown hangs is given up after the timeout; the others shut down and the head ends', {
  timeout: 60_000,
}, async () => {
  const dir = tempDir('stop-hang');
  const marker = join(dir, 'recorded');
  const lines: string[] = [];
  const head = new Head({ log: (l) => lines.push(l), backendShutdownTimeoutMs: 300 });
  await head.addBackend(createBackend({ name: 'sleeper', onShutdown: 'hang' }));
  await head.addBackend(createBackend({ name: 'thrower', onShutdown: 'throw' }));
  await head.addBackend(createBackend({ name: 'recorder', onShutdown: 'record', marker }));
  const started = Date.now();
  const err = await head.shutdown().then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err instanceof BackendShutdownError, String(err));
  assert.deepEqual(
    err.failures.map((f) => f.backend),
    ['sleeper', 'thrower'],
  );
  assert.match(err.message, /backend sleeper: did not finish shutting down within 0\.3 s/);
  assert.match(err.message, /backend thrower: thrower refuses to shut down/);
  assert.ok(Date.now() - started < 20_000);
  assert.ok(existsSync(marker));
  assert.ok(
    lines.some((l) => /backend sleeper/.test(l)) && lines.some((l) => /backend thrower/.test(l)),
    lines.join('\n'),
  );
  await head.shutdown();
});

test('orrery stop against a head whose backend fails to shut down: non-zero, one line with the reason and the log', {
  timeout: 180_000,
}, async () => {
  const home = tempDir('stop-crash');
  const dir = configDir([
    { name: 'bad', onShutdown: 'throw' },
    { name: 'good', onShutdown: 'record', marker: join(home, 'good-stopped') },
  ]);
  const head = await startHead(home, dir);
  const r = await orrery(home, dir, ['stop']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    new RegExp(
      `^orrery: the head \\(pid ${head.pid}\\) crashed while stopping: .*backend bad: bad refuses to shut down.*; its log: ${resolve(home, 'head.log').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
    ),
  );
  assert.doesNotMatch(r.stdout, /stopped the head/);
  assert.equal(await head.exited, 1);
  assert.ok(!alive(head.pid));
  assert.ok(existsSync(join(home, 'good-stopped')), 'the other backend still shut down');
  assert.match(readFileSync(join(home, 'head.log'), 'utf8'), /bad refuses to shut down/);
  assert.equal(statSync(join(home, 'head.log')).mode & 0o777, 0o600);
});

test('orrery stop against a head that dies while stopping: non-zero, says it died without recording how it stopped', {
  timeout: 180_000,
}, async () => {
  const home = tempDir('stop-died');
  const dir = configDir([{ name: 'fatal', onShutdown: 'die' }]);
  const head = await startHead(home, dir);
  const r = await orrery(home, dir, ['stop']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `^orrery: the head \\(pid ${head.pid}\\) died without recording how it stopped \\(it crashed or was killed\\); its log: .*head\\.log\\n$`,
    ),
  );
  assert.equal(await head.exited, null);
});

test('a clean stop records a clean outcome: orrery stop exits 0', { timeout: 180_000 }, async () => {
  const home = tempDir('stop-clean');
  const dir = configDir([{ name: 'fine', onShutdown: 'record', marker: join(home, 'fine-stopped') }]);
  const head = await startHead(home, dir);
  const r = await orrery(home, dir, ['stop']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`stopped the head \\(pid ${head.pid}\\)`));
  assert.equal(await head.exited, 0);
  assert.match(head.stdout(), /orrery head stopped/);
  assert.ok(existsSync(join(home, 'fine-stopped')));
});
