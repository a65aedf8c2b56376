/**
 * How the desktop app finds and runs the head (electron/head-process.ts), under plain Node: the
 * package root from a file of the package (sources, electron/dist/main.mjs, an installed
 * node_modules/orrery-compute), the built CLI first, the tsx fallback only where tsx resolves, and
 * which Node runs the head. Real folders in a temp dir stand in for the package layouts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { headRuntime, HeadStartError, orreryCommand, packageRoot, tsxResolves } from '../../electron/head-process.ts';

/** Writes `files` (path -> content) under a fresh temp folder; returns it. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'orrery-head-process-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const PKG = JSON.stringify({ name: 'orrery-compute', version: '0.1.0' });

test('packageRoot finds the orrery-compute package above the sources, the built bundle and an installed copy', () => {
  const project = tree({
    'package.json': JSON.stringify({ name: 'my-experiment' }),
    'node_modules/orrery-compute/package.json': PKG,
    'node_modules/orrery-compute/electron/dist/main.mjs': '',
    'node_modules/orrery-compute/electron/head-process.ts': '',
  });
  const installed = join(project, 'node_modules', 'orrery-compute');
  assert.equal(packageRoot(pathToFileURL(join(installed, 'electron/dist/main.mjs')).href), installed);
  assert.equal(packageRoot(pathToFileURL(join(installed, 'electron/head-process.ts')).href), installed);
  assert.equal(packageRoot(), process.cwd(), 'the repository itself, from electron/head-process.ts');
});

test('packageRoot refuses a file outside any orrery-compute package, naming it', () => {
  const other = tree({ 'package.json': JSON.stringify({ name: 'orrery' }), 'x/main.mjs': '' });
  assert.throws(
    () => packageRoot(pathToFileURL(join(other, 'x/main.mjs')).href),
    (err: Error) => err instanceof HeadStartError && err.message.includes(join(other, 'x/main.mjs')),
  );
});

test('orreryCommand runs the built CLI whenever it exists, even where tsx resolves', () => {
  const root = tree({
    'package.json': PKG,
    'dist/orchestrator/cli/main.js': '',
    'orchestrator/cli/main.ts': '',
  });
  assert.deepEqual(
    orreryCommand(root, () => true),
    [join(root, 'dist/orchestrator/cli/main.js')],
  );
});

test('orreryCommand falls back to the sources through tsx only when the build is missing and tsx resolves', () => {
  const repo = tree({ 'package.json': PKG, 'orchestrator/cli/main.ts': '' });
  assert.deepEqual(
    orreryCommand(repo, () => true),
    ['--import', 'tsx', join(repo, 'orchestrator/cli/main.ts')],
  );
  assert.throws(
    () => orreryCommand(repo, () => false),
    (err: Error) => err instanceof HeadStartError && /not built .*npm run build/.test(err.message),
  );
  const installedWithoutBuild = tree({ 'package.json': PKG });
  assert.throws(() => orreryCommand(installedWithoutBuild, () => true), HeadStartError);
});

test('tsxResolves is true in the repository and false in a package without devDependencies', () => {
  assert.equal(tsxResolves(process.cwd()), true);
  assert.equal(tsxResolves(tree({ 'package.json': PKG })), false);
});

test('headRuntime: ORRERY_NODE first, else Electron as Node inside Electron, else this Node', () => {
  const fromCli = headRuntime({ ORRERY_NODE: '/usr/bin/node', HOME: '/h' }, '/opt/Orrery/orrery', '38.0.0');
  assert.equal(fromCli.command, '/usr/bin/node');
  assert.equal(fromCli.env.ELECTRON_RUN_AS_NODE, undefined);
  const packaged = headRuntime({ HOME: '/h' }, '/opt/Orrery/orrery', '38.0.0');
  assert.deepEqual(packaged, { command: '/opt/Orrery/orrery', env: { HOME: '/h', ELECTRON_RUN_AS_NODE: '1' } });
  const plainNode = headRuntime({ HOME: '/h' }, '/usr/local/bin/node', undefined);
  assert.deepEqual(plainNode, { command: '/usr/local/bin/node', env: { HOME: '/h' } });
});
