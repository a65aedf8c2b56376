import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { agentBundle, buildAgentBundle } from '../../backends/transport/ssh/agent-bundle.ts';

test('the bundle holds the agent, the worker and the orrery package, under a stable content hash', async () => {
  const a = await agentBundle();
  const fixed = [
    'agent-main.mjs',
    'node_modules/orrery-compute/index.mjs',
    'node_modules/orrery-compute/internal/command-container.mjs',
    'node_modules/orrery-compute/package.json',
    'worker-main.mjs',
  ];
  const names = [...a.files.keys()];
  for (const f of fixed) assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);
  const chunks = names.filter((n) => !fixed.includes(n));
  assert.ok(chunks.length > 0, 'modules shared by the worker and the orrery package are in chunks');
  assert.ok(
    chunks.every((n) => /^[\w-]+\.mjs$/.test(n)),
    `chunks sit beside the entries: ${chunks.join(', ')}`,
  );
  assert.match(a.hash, /^[0-9a-f]{24}$/);
  assert.equal(await agentBundle(), a, 'built once per process');
  const b = await buildAgentBundle();
  assert.equal(b.hash, a.hash, 'the same sources give the same bytes');
});

test('written out, the bundle loads without Orrery installed: `orrery-compute` resolves beside the worker', async () => {
  const { files } = await agentBundle();
  const dir = mkdtempSync(join(tmpdir(), 'orrery-bundle-'));
  try {
    for (const [path, data] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), data);
    }
    // A script beside worker-main.mjs resolves bare 'orrery-compute' the way shipped task code does there.
    writeFileSync(
      join(dir, 'probe.mjs'),
      `const m = await import('orrery-compute'); console.log(typeof m.remote, typeof m.get, typeof m.getRuntimeContext);`,
    );
    const out = execFileSync(process.execPath, [join(dir, 'probe.mjs')], {
      cwd: tmpdir(),
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    assert.equal(out.trim(), 'function function function');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
