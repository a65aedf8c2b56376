/**
 * runtimeEnv.pip against real Python (python3 -m venv + pip; uv where the host has it), with
 * wheels the test writes itself (no network): an environment built from a local wheel and used
 * by a `python3 -c 'import ...'` command task on local nodes, over the loopback sshd and on
 * Slurm; ten concurrent tasks (over two agents sharing one home) build it once; a broken
 * requirement fails them all with pip's message and is not kept; a second run builds nothing.
 * Builds are counted in `~/.orrery/envs/builds.log` of the user the agent runs as.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cancel, command, get, init, remote, RuntimeEnvSetupError, shutdown, TaskCancelledError } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { resolvePythonEnv } from '../../orchestrator/core/python-env.ts';
import { orreryHome } from '../../orchestrator/core/runtime-dir.ts';
import { requireService, sshService, testSlurmConfig } from '../services/env.ts';
import { tempDir, until } from './helpers.ts';
import { writeWheel } from './python-wheel.ts';
import { envFolderName } from '../../orchestrator/agent/python-envs.ts';

const sshUp = requireService('ssh');
const slurmUp = sshUp && requireService('slurm');
const SSH_HOME_ENVS = `/home/${sshService.user}/.orrery/envs`;
const LOCAL_ENVS = join(orreryHome(), 'envs');

/** A folder every test user can read (the ssh and Slurm agents run as orrery-test on this machine). */
const shared = tempDir('python-env');
chmodSync(shared, 0o755);

/** Environments this run built (removed at the end: each is a venv of some 20 MB). */
const made: string[] = [];

/** A fresh wheel (its bytes, hence the environment's hash, unique to this run) and the hash. */
function freshWheel(name: string): { wheel: string; value: string; hash: string } {
  const value = `${name}-${process.pid}-${Date.now()}`;
  const wheel = writeWheel(shared, name, value);
  const hash = resolvePythonEnv('test', { pip: [wheel] })!.hash;
  made.push(hash);
  return { wheel, value, hash };
}

/** How many times environment `hash` was built under `envs` (lines of its builds.log). */
function builds(envs: string, hash: string): number {
  const log = join(envs, 'builds.log');
  return existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.includes(` ${hash} `)).length
    : 0;
}

const importIt = (module: string) => ({ argv: ['python3', '-c', `import ${module}; print(${module}.X)`] });

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await p;
  return { value, ms: performance.now() - t0 };
}

describe('runtimeEnv.pip', () => {
  let cluster: LocalCluster;

  before(async () => {
    cluster = await LocalCluster.start({ infeasibleGraceMs: 60_000 });
    // Two agents on one host share ~/.orrery/envs: the lock, not only the agent's memory, keeps builds to one.
    await cluster.addNode({ numCpus: 3 });
    await cluster.addNode({ numCpus: 3 });
    if (sshUp)
      await cluster.head.addBackend(
        await createBackend({
          kind: 'ssh',
          name: 'remote',
          hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
          identityFile: sshService.keyPath,
          knownHostsFile: sshService.knownHostsPath,
          numCpus: 4,
        }),
      );
    if (slurmUp) await cluster.head.addBackend(await createBackend(testSlurmConfig()));
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster?.shutdown();
    for (const envs of [LOCAL_ENVS, SSH_HOME_ENVS])
      for (const hash of made)
        for (const p of [envFolderName(hash), `${envFolderName(hash)}.ok`])
          rmSync(join(envs, p), { recursive: true, force: true });
  });

  test('a local wheel: a command task imports it; a function task spawning python3 gets the env; a second run builds nothing', async () => {
    const { wheel, value, hash } = freshWheel('orrerypkg');
    const run = command({ backend: 'local', runtimeEnv: { pip: [wheel] } });
    const firstRef = run.remote(importIt('orrerypkg'));
    const first = await timed(get(firstRef));
    assert.equal(first.value.stdout.trim(), value);
    assert.equal(builds(LOCAL_ENVS, hash), 1);
    const log = cluster.head.logs.lines(firstRef.id).join('\n');
    assert.match(log, new RegExp(`orrery: building Python environment ${hash}`), 'the build is in the task log');
    assert.match(log, /Successfully installed orrerypkg-1\.0/, "pip's own output is in the task log");
    assert.ok(existsSync(join(LOCAL_ENVS, `${envFolderName(hash)}.ok`)));
    const second = await timed(get(run.remote(importIt('orrerypkg'))));
    assert.equal(second.value.stdout.trim(), value);
    const spawning = remote({ backend: 'local', runtimeEnv: { pip: [wheel] } }, async () => {
      const { execFileSync } = await import('node:child_process');
      const out = execFileSync('python3', ['-c', 'import orrerypkg, sys; print(orrerypkg.X, sys.prefix)']);
      return { out: String(out).trim(), venv: process.env.VIRTUAL_ENV };
    });
    const f = await get(spawning.remote());
    assert.equal(f.out, `${value} ${join(LOCAL_ENVS, envFolderName(hash))}`);
    assert.equal(f.venv, join(LOCAL_ENVS, envFolderName(hash)));
    assert.equal(builds(LOCAL_ENVS, hash), 1, 'the second run reuses the environment');
    console.log(`local: first run ${first.ms.toFixed(0)} ms, second run ${second.ms.toFixed(0)} ms`);
  });

  test('ten concurrent tasks over two agents build the environment once', async () => {
    const { wheel, value, hash } = freshWheel('orrerymany');
    const run = command({ backend: 'local', runtimeEnv: { pip: { packages: [wheel] } } });
    const results = await get(Array.from({ length: 10 }, () => run.remote(importIt('orrerymany'))));
    assert.deepEqual(
      results.map((r) => r.stdout.trim()),
      Array(10).fill(value),
    );
    assert.equal(builds(LOCAL_ENVS, hash), 1);
  });

  test("a broken requirement fails every waiting task with pip's message and is not kept", async () => {
    const missing = join(shared, 'absent-9.9-py3-none-any.whl');
    const hash = resolvePythonEnv('test', { pip: [missing] })!.hash;
    const run = command({ backend: 'local', runtimeEnv: { pip: [missing] } });
    const refs = Array.from({ length: 10 }, () => run.remote(importIt('absent')));
    const outcomes = await Promise.allSettled(refs.map((r) => get(r)));
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as Error;
      assert.ok(err instanceof RuntimeEnvSetupError, `expected a RuntimeEnvSetupError, got ${err}`);
      assert.match(err.message, /pip install \(exit code \d+\)/);
      assert.match(err.message, /absent-9\.9-py3-none-any\.whl/);
      assert.match(err.message, /does not exist|No such file/);
    }
    assert.equal(existsSync(join(LOCAL_ENVS, `${envFolderName(hash)}.ok`)), false, 'a failed build is not marked good');
    assert.equal(existsSync(join(LOCAL_ENVS, envFolderName(hash))), false, 'a failed build leaves no folder');
    assert.equal(builds(LOCAL_ENVS, hash), 0);
  });

  test('a task cancelled while its environment builds fails as cancelled and never runs', async () => {
    const { wheel, hash } = freshWheel('orrerycancel');
    const marker = join(shared, 'cancelled-ran');
    const run = command({ backend: 'local', runtimeEnv: { pip: [wheel] } });
    const ref = run.remote({ argv: ['touch', marker] });
    await new Promise((r) => setTimeout(r, 300));
    await cancel(ref);
    await assert.rejects(get(ref), (err: Error) => err instanceof TaskCancelledError);
    await until('the build is done', () => builds(LOCAL_ENVS, hash) === 1, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(existsSync(marker), false, 'the cancelled task did not run once the environment was ready');
  });

  test("an invalid requirement string fails with pip's message", async () => {
    const run = command({ backend: 'local', runtimeEnv: { pip: ['not a valid requirement ==='] } });
    await assert.rejects(get(run.remote(importIt('x'))), (err: Error) => {
      assert.ok(err instanceof RuntimeEnvSetupError);
      assert.match(err.message, /Invalid requirement|invalid requirement/i);
      return true;
    });
  });

  test('over ssh: a command task imports the wheel; ten concurrent tasks build once; the second run builds nothing', {
    skip: !sshUp && 'the test sshd is not running',
  }, async () => {
    const { wheel, value, hash } = freshWheel('orrerysshpkg');
    const run = command({ backend: 'remote', runtimeEnv: { pip: [wheel] } });
    const first = await timed(get(run.remote(importIt('orrerysshpkg'))));
    assert.equal(first.value.stdout.trim(), value);
    const second = await timed(get(run.remote(importIt('orrerysshpkg'))));
    assert.equal(second.value.stdout.trim(), value);
    assert.equal(builds(SSH_HOME_ENVS, hash), 1);
    console.log(`ssh: first run ${first.ms.toFixed(0)} ms, second run ${second.ms.toFixed(0)} ms`);

    const many = freshWheel('orrerysshmany');
    const runMany = command({ backend: 'remote', runtimeEnv: { pip: [many.wheel] } });
    const results = await get(Array.from({ length: 10 }, () => runMany.remote(importIt('orrerysshmany'))));
    assert.deepEqual(
      results.map((r) => r.stdout.trim()),
      Array(10).fill(many.value),
    );
    assert.equal(builds(SSH_HOME_ENVS, many.hash), 1);
  });

  test("over ssh: a broken requirement fails all ten tasks with pip's message", {
    skip: !sshUp && 'the test sshd is not running',
  }, async () => {
    const missing = join(shared, 'sshabsent-9.9-py3-none-any.whl');
    const run = command({ backend: 'remote', runtimeEnv: { pip: [missing] } });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => get(run.remote(importIt('x')))));
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as Error;
      assert.ok(err instanceof RuntimeEnvSetupError, String(err));
      assert.match(err.message, /sshabsent-9\.9-py3-none-any\.whl/);
    }
  });

  test('on Slurm: a command task imports the wheel from an environment in the shared home', {
    skip: !slurmUp && 'Slurm or the test sshd is not running',
    timeout: 300_000,
  }, async () => {
    const { wheel, value, hash } = freshWheel('orreryslurmpkg');
    const run = command({ backend: 'hpc', runtimeEnv: { pip: [wheel] } });
    const r = await get(run.remote(importIt('orreryslurmpkg')));
    assert.equal(r.stdout.trim(), value);
    assert.equal(builds(SSH_HOME_ENVS, hash), 1);
  });
});
