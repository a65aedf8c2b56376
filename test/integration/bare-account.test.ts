/**
 * The README's "From a bare cluster account" walk-through, run as a user would: a project folder
 * with its code, a Python requirement and an `orrery.json`, pointed at accounts that have nothing
 * prepared. On ssh the account is orrery-bare (its `node` reports v16, so Orrery must bring its
 * own); on Slurm `node: 'bundled'` forces the same. Node comes from a local mirror
 * (test/integration/node-mirror.ts) and the Python package is a wheel the test writes, so no
 * network is needed. One function task imports the project's module, one command task runs
 * `python3 train.py` with the requirement installed, and its output comes back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { command, get, init, remote, shutdown } from 'orrery-compute';
import { tempDir } from './helpers.ts';
import { type NodeMirror, startNodeMirror } from './node-mirror.ts';
import { writeWheel } from './python-wheel.ts';
import { requireService, sshService } from '../services/env.ts';

const sshUp = requireService('ssh');
const slurmUp = requireService('slurm');
const login = (user: string) => `${user}@${sshService.host}:${sshService.port}`;
const homeOf = (user: string) => execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5]!;

describe('from a bare cluster account', {
  skip: !(sshUp && slurmUp) && 'the test sshd or Slurm is not running',
}, () => {
  let mirror: NodeMirror;
  let project: string;
  let wheel: string;
  const value = `v${process.pid}-${Date.now()}`;
  const savedHome = process.env.ORRERY_HOME;

  before(async () => {
    mirror = await startNodeMirror();
    // This machine is "the laptop": a fresh Orrery home, so the Node tarball is downloaded here.
    process.env.ORRERY_HOME = tempDir('laptop-home');
    execFileSync('rm', ['-rf', '--', `${homeOf(sshService.bareUser)}/.orrery`]);
    const wheels = tempDir('wheels');
    chmodSync(wheels, 0o755);
    wheel = writeWheel(wheels, 'barepkg', value);

    project = tempDir('project');
    mkdirSync(join(project, 'lib'));
    mkdirSync(join(project, 'data'));
    writeFileSync(join(project, 'lib', 'greet.mjs'), "export const greet = (who) => 'hello ' + who;\n");
    writeFileSync(
      join(project, 'train.py'),
      [
        'import os, barepkg',
        "os.makedirs('out', exist_ok=True)",
        "open('out/result.txt', 'w').write(barepkg.X + ' ' + str(os.path.exists('lib/greet.mjs')))",
        '',
      ].join('\n'),
    );
    writeFileSync(join(project, '.gitignore'), 'data/\n');
    writeFileSync(join(project, 'data', 'big.bin'), Buffer.alloc(4 << 20));
    const keys = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };
    const nodeDist = { url: `${mirror.url}/dist` };
    const config = {
      backends: [
        { name: 'lab', kind: 'ssh', hosts: [login(sshService.bareUser)], ...keys, nodeDist },
        {
          name: 'hpc',
          kind: 'slurm',
          loginHost: login(sshService.user),
          ...keys,
          partition: 'debug',
          cpusPerNode: 1,
          maxNodes: 1,
          idleTimeoutS: 5,
          node: 'bundled',
          nodeDist,
        },
      ],
    };
    writeFileSync(join(project, 'orrery.json'), JSON.stringify(config, null, 2));
    await init({ config: join(project, 'orrery.json'), numCpus: 1, logToDriver: false });
  });

  after(async () => {
    await shutdown();
    mirror?.close();
    if (savedHome === undefined) delete process.env.ORRERY_HOME;
    else process.env.ORRERY_HOME = savedHome;
  });

  for (const backend of ['lab', 'hpc']) {
    test(`${backend}: Orrery's own Node runs a task that imports the project's module; ignored files stay home`, async () => {
      const probe = remote({ backend, runtimeEnv: { workingDir: project } }, async () => {
        const { existsSync } = await import('node:fs');
        const { greet } = await import(['.', 'lib', 'greet.mjs'].join('/'));
        return { execPath: process.execPath, greeting: greet('bare'), big: existsSync('data/big.bin') };
      });
      const r = await get(probe.remote());
      assert.match(r.execPath, /\/\.orrery\/runtime\/[^/]+\/bin\/node$/);
      assert.equal(r.greeting, 'hello bare');
      assert.equal(r.big, false, 'the .gitignored data/ is not shipped');
    });

    test(`${backend}: a command task runs python3 train.py with the requirement installed; its output comes back`, async () => {
      const train = command({
        backend,
        runtimeEnv: { workingDir: project, pip: [wheel] },
        outputs: ['out/result.txt'],
      });
      const r = await get(train.remote({ argv: ['python3', 'train.py'] }));
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(new TextDecoder().decode(r.files['out/result.txt']), `${value} True`);
    });
  }

  test('the Node tarball was downloaded once for both backends', () => {
    const tarballs = [...mirror.requests].filter(([path]) => path.endsWith('.tar.gz'));
    assert.deepEqual(
      tarballs.map(([, n]) => n),
      [1],
    );
  });
});
