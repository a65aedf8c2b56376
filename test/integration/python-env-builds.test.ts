/**
 * The agent's environment builder (agent/python-envs.ts) against real python3 -m venv and pip,
 * without a cluster: two builders sharing one envs folder (two agents, or two Slurm allocations
 * on one shared home) build once, the second waiting on the lock; a lock left by a dead process
 * is taken over; a half-built folder without its `.ok` marker is built again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { resolvePythonEnv } from '../../orchestrator/core/python-env.ts';
import { envFolderName, PythonEnvs } from '../../orchestrator/agent/python-envs.ts';
import { tempDir } from './helpers.ts';
import { writeWheel } from './python-wheel.ts';

const buildsOf = (root: string) =>
  existsSync(join(root, 'builds.log')) ? readFileSync(join(root, 'builds.log'), 'utf8').trim().split('\n') : [];

const importIn = (prefix: string, module: string) =>
  execFileSync(join(prefix, 'bin', 'python'), ['-c', `import ${module}; print(${module}.X)`], {
    encoding: 'utf8',
  }).trim();

test('two builders sharing one envs folder build once; the other waits on the lock and reuses it', async () => {
  const root = join(tempDir('envs-shared'), 'envs');
  const spec = resolvePythonEnv('t', { pip: [writeWheel(tempDir('wheel'), 'sharedpkg', `one-${Date.now()}`)] })!;
  const logsA: string[] = [];
  const logsB: string[] = [];
  const [a, b] = await Promise.all([
    new PythonEnvs(root).ensure(spec, (t) => logsA.push(t)),
    new PythonEnvs(root).ensure(spec, (t) => logsB.push(t)),
  ]);
  assert.equal(a.prefix, b.prefix);
  assert.equal(a.prefix, join(root, envFolderName(spec.hash)));
  assert.equal(buildsOf(root).length, 1);
  const waiter = [logsA, logsB].find((l) => l.some((t) => t.includes('waiting for')));
  assert.ok(waiter, 'one of them waited on the lock');
  assert.match(importIn(a.prefix, 'sharedpkg'), /^one-/);
  assert.ok(!existsSync(`${a.prefix}.lock`), 'the lock is released');
  assert.ok(!existsSync(`${a.prefix}.build`), 'the scratch folder is gone');
});

test('a lock left by a dead process is taken over; a folder without .ok is built again', async () => {
  const root = join(tempDir('envs-stale'), 'envs');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const spec = resolvePythonEnv('t', { pip: [writeWheel(tempDir('wheel2'), 'stalepkg', 'two')] })!;
  const prefix = join(root, envFolderName(spec.hash));
  mkdirSync(`${prefix}.lock`);
  writeFileSync(`${prefix}.lock/owner`, JSON.stringify({ host: hostname(), pid: 2 ** 22 + 999, since: 1 }));
  mkdirSync(join(prefix, 'half-built'), { recursive: true });
  const env = await new PythonEnvs(root).ensure(spec, () => {});
  assert.equal(importIn(env.prefix, 'stalepkg'), 'two');
  assert.equal(existsSync(join(prefix, 'half-built')), false, 'the leftover was removed before building');
  assert.equal(buildsOf(root).length, 1);
  // A new builder (another agent, a later session) finds the .ok marker and builds nothing.
  const other = new PythonEnvs(root);
  await other.ensure(spec, () => {});
  assert.equal(buildsOf(root).length, 1);
  // Cleaned away while the agent runs: the next task builds it again instead of running without it.
  rmSync(prefix, { recursive: true });
  rmSync(`${prefix}.ok`);
  assert.equal(other.ready(spec), undefined);
  assert.equal(importIn((await other.ensure(spec, () => {})).prefix, 'stalepkg'), 'two');
  assert.equal(buildsOf(root).length, 2);
});

test('a spec whose hash is not the 16 hex digits core/python-env.ts makes never reaches the file system', async () => {
  const root = join(tempDir('envs-bad'), 'envs');
  await assert.rejects(
    new PythonEnvs(root).ensure({ kind: 'pip', hash: '../../etc', packages: [] }, () => {}),
    /invalid hash "\.\.\/\.\.\/etc"/,
  );
  assert.equal(existsSync(root), false);
});
