import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tempDir } from './helpers.ts';

function orrery(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('backends test local checks the local backend end to end', () => {
  const r = orrery('backends', 'test', 'local');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /✓ node \w+: resources \{"CPU":\d+/);
  assert.match(r.stdout, /✓ probe task ran on .* \(node v\d+/);
  assert.match(r.stdout, /backend local is ready/);
});

test('backends test runs a module backend from a config file (its path relative to the file)', () => {
  const dir = tempDir('cli');
  const cfg = join(dir, 'orrery.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      backends: [
        {
          name: 'bg',
          kind: `module:${relative(dir, join(process.cwd(), 'resources/examples/example-backend.ts'))}`,
          nodes: 1,
        },
      ],
    }),
  );
  const list = orrery('backends', 'list', '--config', cfg);
  assert.match(list.stdout, /bg {2}\(kind module:/);
  const r = orrery('backends', 'test', 'bg', '--config', cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /labels \{[^}]*"priority":"low"\}/);
});

test('errors are one line and exit non-zero', () => {
  for (const args of [['backends', 'test', 'nope'], ['frobnicate'], ['backends', 'test'], ['--colour']]) {
    const r = orrery(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^orrery: /);
  }
  assert.match(orrery('--help').stdout, /backends test <name>/);
});

test('orrery run takes a TypeScript driver with top-level await in a folder whose package.json lacks "type": "module"', () => {
  const dir = tempDir('cli-run');
  writeFileSync(join(dir, 'package.json'), '{ "name": "plain-folder" }\n');
  writeFileSync(join(dir, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } /* comments are fine */ }\n');
  writeFileSync(join(dir, 'double.ts'), 'export const double = (n: number): number => n * 2;\n');
  writeFileSync(join(dir, 'lib.ts'), 'export default 7;\n');
  writeFileSync(
    join(dir, 'driver.ts'),
    `import { init, remote, get, shutdown } from 'orrery-compute';
import { double } from './double.js';
import seven from './lib';
await init({ numCpus: 1 });
const inc = remote(async (x: number): Promise<number> => x + 1);
console.log(JSON.stringify({ got: await get(inc.remote(double(seven))), esm: typeof require === 'undefined', url: import.meta.url }));
await shutdown();
`,
  );
  const r = orrery('run', join(dir, 'driver.ts'));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { got: number; esm: boolean; url: string };
  assert.deepEqual(out, { got: 15, esm: true, url: `file://${join(dir, 'driver.ts')}` });

  writeFileSync(join(dir, 'broken.ts'), 'const x: number = ;\n');
  const bad = orrery('run', join(dir, 'broken.ts'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /broken\.ts:1:19: Unexpected ";"/);
});
