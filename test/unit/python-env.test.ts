/**
 * The pure parts of runtimeEnv.pip / .conda: the spec resolved on the driver (content, not
 * paths; its hash), the command lines built for uv, venv + pip and conda/mamba/micromamba, the
 * activation variables, conda's env list, and the build lock between processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePythonEnv, type PythonEnvSpec } from '../../orchestrator/core/python-env.ts';
import { normalizeTaskOptions } from '../../orchestrator/core/options.ts';
import {
  activationEnv,
  buildSteps,
  condaPrefixOf,
  requirementsText,
} from '../../orchestrator/agent/python-env-commands.ts';
import { acquireLock, isStaleLock, STALE_MS } from '../../orchestrator/core/file-lock.ts';
import { fromErrorInfo, RuntimeEnvSetupError, toErrorInfo } from '../../orchestrator/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'orrery-pyenv-unit-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

test('pip: requirements travel as content, local paths become absolute, the hash follows the content', () => {
  writeFileSync(join(dir, 'requirements.txt'), 'numpy==1.26.4\n');
  writeFileSync(join(dir, 'pkg-1.0-py3-none-any.whl'), 'one');
  const spec = resolvePythonEnv(
    't',
    { pip: { packages: ['./pkg-1.0-py3-none-any.whl', 'rich'], requirements: 'requirements.txt' } },
    dir,
  )!;
  assert.deepEqual(spec, {
    kind: 'pip',
    hash: spec.hash,
    packages: [join(dir, 'pkg-1.0-py3-none-any.whl'), 'rich'],
    requirements: 'numpy==1.26.4\n',
  });
  assert.match(spec.hash, /^[0-9a-f]{16}$/);
  const again = resolvePythonEnv(
    't',
    { pip: { packages: ['./pkg-1.0-py3-none-any.whl', 'rich'], requirements: 'requirements.txt' } },
    dir,
  )!;
  assert.equal(again.hash, spec.hash, 'the same content gives the same hash');
  writeFileSync(join(dir, 'pkg-1.0-py3-none-any.whl'), 'two');
  const rebuilt = resolvePythonEnv(
    't',
    { pip: { packages: ['./pkg-1.0-py3-none-any.whl', 'rich'], requirements: 'requirements.txt' } },
    dir,
  )!;
  assert.notEqual(rebuilt.hash, spec.hash, 'a rebuilt wheel makes a new environment');
  writeFileSync(join(dir, 'requirements.txt'), 'numpy==2.0.0\n');
  const bumped = resolvePythonEnv(
    't',
    { pip: { packages: ['./pkg-1.0-py3-none-any.whl', 'rich'], requirements: 'requirements.txt' } },
    dir,
  )!;
  assert.notEqual(bumped.hash, rebuilt.hash, 'a changed requirements file makes a new environment');
  const list = resolvePythonEnv('t', { pip: ['rich'] }, dir)!;
  assert.deepEqual(list, { kind: 'pip', hash: list.hash, packages: ['rich'] });
  assert.equal(resolvePythonEnv('t', { env: { A: 'b' } }), undefined);
});

test('a requirements or environment file that cannot be read is one TypeError naming the field', () => {
  assert.throws(
    () => resolvePythonEnv('remote(f)', { pip: { requirements: 'nope.txt' } }, dir),
    (e: Error) =>
      e instanceof TypeError &&
      /remote\(f\): option runtimeEnv\.pip\.requirements names .*nope\.txt.*ENOENT/.test(e.message),
  );
  assert.throws(
    () => resolvePythonEnv('remote(f)', { conda: { environmentFile: 'env.yml' } }, dir),
    (e: Error) => e instanceof TypeError && /runtimeEnv\.conda\.environmentFile/.test(e.message),
  );
});

test('conda: a name or the content of an environment file; normalized options carry the resolved spec', () => {
  writeFileSync(join(dir, 'environment.yml'), 'name: x\ndependencies: [python=3.11]\n');
  const file = resolvePythonEnv('t', { conda: { environmentFile: 'environment.yml' } }, dir)!;
  assert.deepEqual(file, {
    kind: 'conda-file',
    hash: file.hash,
    environment: 'name: x\ndependencies: [python=3.11]\n',
  });
  const named = resolvePythonEnv('t', { conda: 'torch' })!;
  assert.deepEqual(named, { kind: 'conda-name', hash: named.hash, name: 'torch' });
  assert.equal(normalizeTaskOptions({ runtimeEnv: { conda: 'torch' } }, 't').pythonEnv?.hash, named.hash);
  assert.equal('pythonEnv' in normalizeTaskOptions({}, 't'), false);
});

const pip = (packages: string[], requirements?: string): PythonEnvSpec => ({
  kind: 'pip',
  hash: 'h',
  packages,
  ...(requirements === undefined ? {} : { requirements }),
});

test('requirements text: the packages one a line, then the file; nothing to install is undefined', () => {
  assert.equal(
    requirementsText(pip(['/w/a.whl', 'rich'], '--no-index\nnumpy\n') as never),
    '/w/a.whl\nrich\n--no-index\nnumpy\n',
  );
  assert.equal(requirementsText(pip([]) as never), undefined);
});

test('the command lines: uv when the host has it, else python3 -m venv and pip', () => {
  const files = { requirements: '/s/requirements.txt' };
  assert.deepEqual(
    buildSteps(pip(['x']), '/e/h', files, { uv: '/bin/uv', python3: '/usr/bin/python3' }).map((s) => s.argv),
    [
      ['/bin/uv', 'venv', '--quiet', '--python', '/usr/bin/python3', '/e/h'],
      ['/bin/uv', 'pip', 'install', '--python', '/e/h/bin/python', '-r', '/s/requirements.txt'],
    ],
  );
  assert.deepEqual(
    buildSteps(pip(['x']), '/e/h', files, { python3: '/usr/bin/python3' }).map((s) => [s.label, s.argv]),
    [
      ['python3 -m venv', ['/usr/bin/python3', '-m', 'venv', '/e/h']],
      [
        'pip install',
        [
          '/e/h/bin/python',
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          '--no-input',
          '-r',
          '/s/requirements.txt',
        ],
      ],
    ],
  );
  assert.deepEqual(
    buildSteps(pip([]), '/e/h', {}, { python3: '/usr/bin/python3' }).map((s) => s.label),
    ['python3 -m venv'],
    'nothing to install: only the venv',
  );
  assert.throws(() => buildSteps(pip(['x']), '/e/h', files, {}), /neither uv nor python3/);
});

test('the command lines for conda, mamba and micromamba; a named env is looked up, not built', () => {
  const spec: PythonEnvSpec = { kind: 'conda-file', hash: 'h', environment: 'x' };
  const files = { environment: '/s/environment.yml' };
  assert.deepEqual(buildSteps(spec, '/e/h', files, { conda: { exe: '/c/bin/conda', flavor: 'conda' } })[0]!.argv, [
    '/c/bin/conda',
    'env',
    'create',
    '--prefix',
    '/e/h',
    '--file',
    '/s/environment.yml',
  ]);
  assert.deepEqual(buildSteps(spec, '/e/h', files, { conda: { exe: '/m/mamba', flavor: 'mamba' } })[0]!.argv, [
    '/m/mamba',
    'env',
    'create',
    '--prefix',
    '/e/h',
    '--file',
    '/s/environment.yml',
  ]);
  assert.deepEqual(
    buildSteps(spec, '/e/h', files, { conda: { exe: '/m/micromamba', flavor: 'micromamba' } })[0]!.argv,
    ['/m/micromamba', 'create', '--yes', '--prefix', '/e/h', '--file', '/s/environment.yml'],
  );
  assert.deepEqual(
    buildSteps(
      { kind: 'conda-name', hash: 'h', name: 'torch' },
      '',
      {},
      { conda: { exe: '/c/conda', flavor: 'conda' } },
    )[0]!.argv,
    ['/c/conda', 'env', 'list', '--json'],
  );
  assert.throws(
    () => buildSteps(spec, '/e/h', files, { python3: '/usr/bin/python3' }),
    /no conda, mamba or micromamba/,
  );
});

test("conda env list: a name's prefix under envs/, base as the root prefix, an absolute prefix as itself", () => {
  const json = JSON.stringify({
    envs: ['/opt/conda', '/opt/conda/envs/torch', '/home/u/.conda/envs/jax', '/home/u/other/torch2'],
    root_prefix: '/opt/conda',
  });
  assert.equal(condaPrefixOf(json, 'torch'), '/opt/conda/envs/torch');
  assert.equal(condaPrefixOf(json, 'jax'), '/home/u/.conda/envs/jax');
  assert.equal(condaPrefixOf(json, 'base'), '/opt/conda');
  assert.equal(condaPrefixOf(json, '/home/u/other/torch2'), '/home/u/other/torch2');
  assert.equal(condaPrefixOf(json, 'torch2'), undefined, 'a prefix outside an envs folder has no name');
  assert.equal(condaPrefixOf(json, 'missing'), undefined);
  assert.equal(condaPrefixOf('not json', 'torch'), undefined);
});

test('activation: VIRTUAL_ENV or CONDA_PREFIX, and the bin folder first on the PATH', () => {
  assert.deepEqual(activationEnv('pip', '/e/h', '/usr/bin:/bin'), {
    VIRTUAL_ENV: '/e/h',
    PATH: '/e/h/bin:/usr/bin:/bin',
  });
  assert.deepEqual(activationEnv('conda-name', '/opt/conda/envs/t', '/usr/bin', 't'), {
    CONDA_PREFIX: '/opt/conda/envs/t',
    CONDA_DEFAULT_ENV: 't',
    PATH: '/opt/conda/envs/t/bin:/usr/bin',
  });
  assert.equal(activationEnv('pip', '/e/h', undefined).PATH, '/e/h/bin');
});

test('RuntimeEnvSetupError crosses processes with its fields and the installer output', () => {
  const err = new RuntimeEnvSetupError(
    'node1',
    'pip',
    'the Python environment abc could not be built on node1',
    'ERROR: No matching distribution',
  );
  const back = fromErrorInfo(toErrorInfo(err)) as RuntimeEnvSetupError;
  assert.ok(back instanceof RuntimeEnvSetupError);
  assert.deepEqual([back.node, back.field, back.outputTail], ['node1', 'pip', 'ERROR: No matching distribution']);
  assert.equal(back.message, err.message);
});

test('lock: a live owner is never stale; a dead pid on this host or a silent owner is', () => {
  const here = hostname();
  assert.equal(isStaleLock({ host: here, pid: process.pid, since: 0 }, 0), false);
  assert.equal(isStaleLock({ host: here, pid: 2 ** 22 + 12345, since: 0 }, 0), true, 'no such pid');
  assert.equal(
    isStaleLock({ host: 'elsewhere', pid: 1, since: 0 }, 1000),
    false,
    "another host's pid cannot be checked",
  );
  assert.equal(isStaleLock({ host: 'elsewhere', pid: 1, since: 0 }, STALE_MS + 1), true, 'silent too long');
  assert.equal(isStaleLock(undefined, 1000), false, 'just made, owner not yet written');
});

test('lock: exclusive; the second waits for the release; a dead owner is taken over', async () => {
  const lock = join(dir, 'h.lock');
  const releaseA = await acquireLock(lock);
  let waited = 0;
  let bHas = false;
  const b = acquireLock(lock, () => waited++).then((release) => {
    bHas = true;
    return release;
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(bHas, false, 'held by A');
  assert.equal(waited, 1);
  releaseA();
  const releaseB = await b;
  assert.equal(bHas, true);
  releaseB();
  assert.equal(existsSync(lock), false);

  mkdirSync(lock);
  writeFileSync(join(lock, 'owner'), JSON.stringify({ host: hostname(), pid: 2 ** 22 + 12345, since: 1 }));
  const releaseC = await acquireLock(lock);
  releaseC();
  assert.equal(existsSync(lock), false);
});
