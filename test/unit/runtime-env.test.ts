import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkRuntimeEnv } from '../../orchestrator/core/runtime-env.ts';

describe('runtimeEnv option', () => {
  test('the shapes Ray users write are accepted unchanged', () => {
    for (const env of [
      { workingDir: './project', excludes: ['data/', '*.ckpt'], env: { A: '1' } },
      { pip: ['numpy==2.1', './wheels/mypkg-1.0-py3-none-any.whl'] },
      { pip: { requirements: 'requirements.txt' } },
      { pip: { packages: ['rich'], requirements: 'requirements.txt' } },
      { conda: 'base' },
      { conda: { environmentFile: 'environment.yml' } },
      { container: { image: 'docker.io/library/python:3.12' } },
      { container: { image: './images/train.sif', runtime: 'apptainer', options: ['--cleanenv'] } },
    ]) {
      assert.equal(checkRuntimeEnv('remote(f)', env), env);
    }
    assert.equal(checkRuntimeEnv('remote(f)', undefined), undefined);
  });

  test('each wrong field gets a message naming it and what is allowed', () => {
    const cases: [unknown, RegExp][] = [
      ['dir', /option runtimeEnv must be an object/],
      [{ uv: ['x'] }, /unknown runtimeEnv field uv; allowed: workingDir, excludes, env, pip, conda, container/],
      [{ workingDir: '' }, /runtimeEnv\.workingDir must be a directory path \(got ""\)/],
      [{ excludes: 'data' }, /runtimeEnv\.excludes must be a list/],
      [{ env: { A: 1 } }, /runtimeEnv\.env must be an object of string values/],
      [{ pip: 'numpy' }, /runtimeEnv\.pip must be a list of requirement strings/],
      [{ pip: {} }, /runtimeEnv\.pip must be/],
      [{ pip: { packages: ['x'], index: 'y' } }, /runtimeEnv\.pip must be/],
      [{ conda: { file: 'env.yml' } }, /runtimeEnv\.conda must be an environment name/],
      [{ pip: ['x'], conda: 'base' }, /pip or conda, not both/],
      [{ container: 'python' }, /runtimeEnv\.container must be \{ image/],
      [
        { container: { image: 'x', runtime: 'singularity' } },
        /container\.runtime must be 'apptainer', 'podman' or 'docker'/,
      ],
      [{ container: { image: 'x', gpus: true } }, /unknown runtimeEnv\.container field gpus/],
      [{ container: { image: 'x', options: '--rm' } }, /container\.options must be a list of strings/],
    ];
    for (const [env, message] of cases) assert.throws(() => checkRuntimeEnv('remote(f)', env), message);
  });
});

describe('runtimeEnv of actors', () => {
  test('workingDir and env are taken; pip and conda are refused with the reason', async () => {
    const { normalizeActorOptions } = await import('../../orchestrator/core/options.ts');
    const ok = normalizeActorOptions({ runtimeEnv: { env: { A: '1' } } }, 'remote(Counter)', false);
    assert.deepEqual(ok.task.runtimeEnv, { env: { A: '1' } });
    for (const runtimeEnv of [{ pip: ['rich'] }, { conda: 'base' }])
      assert.throws(
        () => normalizeActorOptions({ runtimeEnv }, 'remote(Counter)', false),
        /remote\(Counter\): runtimeEnv\.pip and runtimeEnv\.conda apply to tasks and command tasks, not actors/,
      );
  });
});

describe('container runtimes as node labels', () => {
  test('a node lists each runtime it has and the one a task naming none would use', async () => {
    const { containerLabels } = await import('../../orchestrator/core/node-labels.ts');
    assert.deepEqual(containerLabels(['docker', 'podman']), {
      'orrery.io/container.docker': 'yes',
      'orrery.io/container.podman': 'yes',
      'orrery.io/container-runtime': 'podman',
    });
    assert.deepEqual(containerLabels([]), {});
  });

  test('a container command task asks for its runtime, or any; a node without it does not match', async () => {
    const { containerLabels, containerSelector } = await import('../../orchestrator/core/node-labels.ts');
    const { matchesConstraint, parseLabelSelector } = await import('../../orchestrator/core/label-selector.ts');
    const fits = (sel: Record<string, string>, labels: Record<string, string>) =>
      parseLabelSelector(sel).every((c) => matchesConstraint(c, labels));
    const podmanNode = containerLabels(['podman']);
    assert.equal(fits(containerSelector(undefined), podmanNode), true);
    assert.equal(fits(containerSelector('podman'), podmanNode), true);
    assert.equal(fits(containerSelector('apptainer'), podmanNode), false);
    assert.equal(fits(containerSelector(undefined), {}), false);
  });

  test('runtimes are found on PATH as executables only', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { containerRuntimesOnPath } = await import('../../orchestrator/core/container-runtimes.ts');
    const a = mkdtempSync(join(tmpdir(), 'orrery-path-'));
    const b = mkdtempSync(join(tmpdir(), 'orrery-path-'));
    writeFileSync(join(a, 'podman'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(b, 'docker'), 'not executable', { mode: 0o644 });
    writeFileSync(join(b, 'apptainer'), '#!/bin/sh\n', { mode: 0o755 });
    assert.deepEqual(containerRuntimesOnPath(`${a}:relative/dir:${b}`), ['apptainer', 'podman']);
  });
});
