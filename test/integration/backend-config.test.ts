import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, isInitialized, shutdown } from 'orrery-compute';
import { tempDir } from './helpers.ts';

test('an unknown backend kind is refused with the kinds that exist', async () => {
  await assert.rejects(
    init({ backends: [{ name: 'x', kind: 'kubernetes' }] }),
    /unknown kind "kubernetes"; use one of local.*module:/,
  );
  assert.equal(isInitialized(), false);
});

test('a module backend that does not export a factory is refused with what to export', async () => {
  const dir = tempDir('badmod');
  const file = join(dir, 'not-a-backend.mjs');
  writeFileSync(file, 'export const x = 1;\n');
  await assert.rejects(
    init({ backends: [{ name: 'm', kind: `module:${file}` }] }),
    /must export createBackend\(config\)/,
  );
  await assert.rejects(init({ backends: [{ name: 'm', kind: 'module:./no/such/file.ts' }] }), /cannot load module/);
});

test('a broken config file is one clear error', async () => {
  const dir = tempDir('badcfg');
  const bad = join(dir, 'orrery.json');
  writeFileSync(bad, '{ "backends": [ ');
  await assert.rejects(init({ config: bad }), /config file .* is not valid JSON/);
  writeFileSync(bad, JSON.stringify({ backend: [] }));
  await assert.rejects(init({ config: bad }), /unknown key backend; allowed: backends, placementRules/);
  await assert.rejects(init({ config: join(dir, 'missing.json') }), /cannot read config file/);
  writeFileSync(bad, JSON.stringify({ placementRules: [{ match: { kind: 'gpu' } }] }));
  await assert.rejects(init({ config: bad }), /placementRules\[0\]\.match\.kind/);
  assert.equal(isInitialized(), false);
});

test('a config file adds backends and placement rules', async () => {
  const dir = tempDir('goodcfg');
  const cfg = join(dir, 'orrery.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      backends: [{ name: 'extra', kind: 'local', numCpus: 1, labels: { tier: 'b' } }],
      placementRules: [{ match: { name: 'where' }, require: { backend: 'extra' } }],
    }),
  );
  await init({ config: cfg, numCpus: 1, logToDriver: false });
  try {
    const { remote, get } = await import('orrery-compute');
    const where = remote({ name: 'where' }, async () => (await import('orrery-compute')).getRuntimeContext().backend);
    assert.equal(await get(where.remote()), 'extra');
  } finally {
    await shutdown();
  }
});
