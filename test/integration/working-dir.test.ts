/**
 * `runtimeEnv.workingDir` naming a directory on the driver's machine: packed once per content,
 * shipped as an object, unpacked once per host into ~/.orrery/workdirs/<hash>/, and run in by
 * function tasks (which import its modules), actors and command tasks, on a local node, the
 * loopback sshd (user orrery-test) and the test Slurm. Each run writes a fresh nonce into the
 * project, so its hashes are new to every host and a first run really ships.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, shutdown, remote, get, state, command, type ObjectRef } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { requireService, slurmService, sshService } from '../services/env.ts';
import { tempDir } from './helpers.ts';

const sshUp = requireService('ssh');
const slurmUp = requireService('slurm');
const login = `${sshService.user}@${sshService.host}:${sshService.port}`;
const sshOptions = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };

/** A project: lib/util.js, a .gitignore'd 20 MB data/big.bin, and a nonce that makes its hash new. */
function project(tag: string): string {
  const dir = tempDir(`orrery-wd-${tag}-`);
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, '.gitignore'), '# data stays home\ndata/\n*.tmp\n');
  writeFileSync(
    join(dir, 'lib/util.js'),
    `export const nonce = ${JSON.stringify(randomBytes(8).toString('hex'))};\n` +
      `export function greet(who) { return 'hello ' + who; }\n`,
  );
  writeFileSync(join(dir, 'lib/helper.mjs'), `export const helper = 'mjs';\n`);
  writeFileSync(join(dir, 'scratch.tmp'), 'ignored');
  writeFileSync(join(dir, 'data/big.bin'), Buffer.alloc(20 * 1024 * 1024, 7));
  return dir;
}

/** What a task sees of its working directory. */
async function probe() {
  const fs = await import('node:fs');
  // A literal specifier, and a computed one (tsc would look for the literal one next to this file).
  // @ts-expect-error the module is in the shipped working directory
  const util = await import('./lib/util.js');
  const lib = './lib/';
  const { helper } = await import(`${lib}helper.mjs`);
  return {
    cwd: process.cwd(),
    greeting: util.greet('node') as string,
    nonce: util.nonce as string,
    helper: helper as string,
    bigShipped: fs.existsSync('data/big.bin') || fs.existsSync('data'),
    tmpShipped: fs.existsSync('scratch.tmp'),
    ino: fs.statSync('.').ino,
    mode: fs.statSync('.').mode & 0o777,
  };
}

/** The task's recorded working-directory facts (set by the worker, agent/task-executor.ts). */
async function infoOf(ref: ObjectRef<unknown>): Promise<Record<string, unknown>> {
  const [row] = await state.listTasks({ filters: [['taskId', '=', ref.id]] });
  return row!.info as Record<string, unknown>;
}

let cluster: LocalCluster;

before(async () => {
  cluster = await LocalCluster.start({ infeasibleGraceMs: 60_000 });
  await cluster.addNode({ numCpus: 2 });
  if (sshUp)
    await cluster.head.addBackend(await createBackend({ kind: 'ssh', name: 'ssh', hosts: [login], ...sshOptions }));
  if (slurmUp)
    await cluster.head.addBackend(
      await createBackend({
        kind: 'slurm',
        name: 'hpc',
        loginHost: login,
        ...sshOptions,
        partition: slurmService.partition,
        cpusPerNode: 1,
        maxNodes: 1,
        idleTimeoutS: 5,
      }),
    );
  await init({ cluster, logToDriver: false });
});
after(async () => {
  await shutdown();
  await cluster?.shutdown();
});

/** The same checks on each backend (`where` names it). */
function shipsTo(where: string, label: string, skip: false | string) {
  describe(`working directory on ${label}`, { skip, timeout: 240_000 }, () => {
    const dir = project(label);
    const opts = { backend: where, runtimeEnv: { workingDir: dir } };
    let first: Awaited<ReturnType<typeof probe>>;

    test('a function task imports the project module; ignored files are not shipped', async () => {
      const ref = remote(opts, probe).remote();
      first = await get(ref);
      assert.equal(first.greeting, 'hello node');
      assert.equal(first.helper, 'mjs');
      assert.match(first.cwd, /\/\.orrery\/workdirs\/[0-9a-f]{32}$/);
      assert.equal(first.bigShipped, false);
      assert.equal(first.tmpShipped, false);
      assert.equal(first.mode, 0o700);
      const info = await infoOf(ref);
      assert.equal(info.workingDir, first.cwd.slice(-32));
      assert.ok((info.workingDirFetchedBytes as number) > 0, 'the first run fetches the archive');
      assert.ok((info.workingDirFetchedBytes as number) < 100_000, 'the 20 MB ignored file is not in the archive');
    });

    test('a second run (new tasks, same content) fetches nothing and reuses the folder', async () => {
      const refs = [0, 1, 2].map(() => remote(opts, probe).remote());
      for (const r of await get(refs)) {
        assert.equal(r.cwd, first.cwd);
        assert.equal(r.ino, first.ino);
        assert.equal(r.nonce, first.nonce);
      }
      for (const ref of refs) assert.equal((await infoOf(ref)).workingDirFetchedBytes, 0);
    });

    test('a command task runs in a private copy of the shipped files', async () => {
      const r = await get(
        command({ ...opts, outputs: ['out.txt'] }).remote({
          argv: ['sh', '-c', 'cat lib/util.js > out.txt; pwd; test ! -e data/big.bin && echo no-big'],
        }),
      );
      assert.match(new TextDecoder().decode(r.files['out.txt']), new RegExp(first.nonce));
      assert.match(r.stdout, /no-big/);
      assert.doesNotMatch(r.stdout, /workdirs/, 'the command runs in its own folder, not in the cache');
      const again = await get(remote(opts, probe).remote());
      assert.equal(again.ino, first.ino, 'the command did not touch the cached folder');
    });

    test('an actor is created and called in the shipped folder', async () => {
      const Greeter = remote(
        opts,
        class Greeter {
          async hello() {
            // @ts-expect-error the module is in the shipped working directory
            const util = await import('./lib/util.js');
            return `${util.greet('actor')} in ${process.cwd()}`;
          }
        },
      );
      const a = Greeter.remote();
      assert.equal(await get(a.hello.remote()), `hello actor in ${first.cwd}`);
    });

    test('tasks and command tasks submitted from a task inherit its working directory', async () => {
      const parent = remote(opts, async (backend: string) => {
        const { remote, command, get } = await import('orrery-compute');
        const child = remote({ backend, numCpus: 0 }, async () => {
          // @ts-expect-error the module is in the shipped working directory
          const util = await import('./lib/util.js');
          return { cwd: process.cwd(), nonce: util.nonce as string };
        });
        const cat = command({ backend, numCpus: 0 }).remote({ argv: ['cat', 'lib/util.js'] });
        return { ...(await get(child.remote())), cat: (await get(cat)).stdout };
      });
      const r = await get(parent.remote(where));
      assert.equal(r.cwd, first.cwd);
      assert.equal(r.nonce, first.nonce);
      assert.match(r.cat, new RegExp(first.nonce));
    });

    test('tasks that start at once on a host without the folder fetch and unpack it once', async () => {
      const fresh = project(`${label}-burst`);
      const f = remote({ backend: where, runtimeEnv: { workingDir: fresh } }, probe);
      const refs = [0, 1, 2, 3].map(() => f.remote());
      const seen = await get(refs);
      assert.equal(new Set(seen.map((r) => r.ino)).size, 1);
      const fetched = await Promise.all(refs.map(async (r) => (await infoOf(r)).workingDirFetchedBytes as number));
      assert.equal(fetched.filter((n) => n > 0).length, 1, `one fetch: ${fetched.join(', ')}`);
    });

    test('changing one file ships a new hash folder', async () => {
      writeFileSync(join(dir, 'lib/helper.mjs'), `export const helper = 'changed';\n`);
      await new Promise((r) => setTimeout(r, 1100)); // the driver re-reads the tree at most once a second
      const r = await get(remote(opts, probe).remote());
      assert.equal(r.helper, 'changed');
      assert.notEqual(r.cwd, first.cwd);
      assert.match(r.cwd, /\/\.orrery\/workdirs\/[0-9a-f]{32}$/);
    });
  });
}

shipsTo('local', 'local', false);
shipsTo('ssh', 'ssh', !sshUp && 'the test sshd is not running');
shipsTo('hpc', 'slurm', !(sshUp && slurmUp) && 'the test Slurm is not running');

describe('working directory: bad input', () => {
  test('a path that is not a directory here is a TypeError at remote() time', () => {
    const dir = project('bad');
    assert.throws(
      () => remote({ runtimeEnv: { workingDir: 'no/such/dir' } }, async () => 1),
      /remote\(anonymous function\): runtimeEnv\.workingDir "no\/such\/dir" is not found on this machine \(resolved to .*\)/,
    );
    assert.throws(
      () => remote({ runtimeEnv: { workingDir: join(dir, 'lib/util.js') } }, async () => 1),
      /is not a directory on this machine/,
    );
  });

  test('an absolute path that does not exist here stays a folder on the node (the task fails there)', async () => {
    const f = remote({ runtimeEnv: { workingDir: '/no-such-orrery-dir' } }, async () => process.cwd());
    await assert.rejects(get(f.remote()), /ENOENT.*no-such-orrery-dir/);
  });

  test('too large: the error lists the largest files and suggests excludes', () => {
    const dir = project('large');
    writeFileSync(join(dir, '.gitignore'), '');
    const saved = process.env.ORRERY_WORKING_DIR_MAX_BYTES;
    process.env.ORRERY_WORKING_DIR_MAX_BYTES = String(10 * 1024 * 1024);
    try {
      const f = remote({ runtimeEnv: { workingDir: dir } }, async () => 1);
      assert.throws(
        () => f.remote(),
        (err: Error) =>
          err instanceof TypeError &&
          /holds 20\.0 MiB of files to ship, over the 10\.0 MiB limit/.test(err.message) &&
          /Largest: data\/big\.bin \(20\.0 MiB\)/.test(err.message) &&
          /excludes: \['data\/'\]/.test(err.message),
      );
      // With the excludes it suggests, the same directory ships.
      const ok = remote({ runtimeEnv: { workingDir: dir, excludes: ['data/'] } }, async () => 1);
      assert.doesNotThrow(() => ok.remote());
    } finally {
      if (saved === undefined) delete process.env.ORRERY_WORKING_DIR_MAX_BYTES;
      else process.env.ORRERY_WORKING_DIR_MAX_BYTES = saved;
    }
  });
});
