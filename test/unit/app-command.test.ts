/**
 * `orrery app` (orchestrator/cli/app-command.ts): the Electron look-up through the `electron`
 * package as Node resolves it (real package folders in a temp dir: not installed, installed
 * without its binary, installed with one), and the choice between the window and the browser
 * dashboard, with the launcher and the dashboard replaced by recorders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appCommand, type AppDeps } from '../../orchestrator/cli/app-command.ts';
import type { CliOptions } from '../../orchestrator/cli/command-line.ts';
import { electronMainPath, findElectron, nodeTooOldForElectron } from '../../orchestrator/cli/electron-binary.ts';
import { packageRootOf } from '../../orchestrator/core/package-root.ts';

/** A project folder whose node_modules/electron has `index` as its main (undefined: no electron package). */
function project(index?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'orrery-app-'));
  writeFileSync(join(root, 'package.json'), '{"name":"p"}');
  if (index !== undefined) {
    const pkg = join(root, 'node_modules', 'electron');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"electron","version":"45.5.0","main":"index.js"}');
    writeFileSync(join(pkg, 'index.js'), index);
  }
  return root;
}

const requireFrom = (root: string) => createRequire(join(root, 'package.json'));

test('findElectron: no electron package means not installed; under Node older than 22.12 it says npm skipped it for that', () => {
  assert.deepEqual(findElectron(requireFrom(project()), '22.12.0'), {
    found: false,
    reason: 'Electron is not installed (the optional dependency electron is missing)',
    remedy: 'run `npm install electron` with internet access',
  });
  assert.deepEqual(findElectron(requireFrom(project()), '20.20.2'), {
    found: false,
    reason:
      'Electron is not installed (npm skips the optional dependency electron, which needs Node 22.12.0 or newer, on this Node 20.20.2)',
    remedy: 'use Node 22.12.0+ and run `npm install electron` with internet access',
  });
});

test('nodeTooOldForElectron compares versions numerically', () => {
  for (const v of ['20.20.2', '22.11.9', '18.0.0', '22.9.0']) assert.equal(nodeTooOldForElectron(v), true, v);
  for (const v of ['22.12.0', '22.20.1', '24.0.0', '100.0.0']) assert.equal(nodeTooOldForElectron(v), false, v);
});

test("findElectron: the package without its binary (index.js throws, as electron's does without path.txt, or names a missing file) means the download failed", () => {
  const throwing = findElectron(
    requireFrom(
      project(
        "throw new Error('Electron failed to install correctly, please delete node_modules/electron and try installing again');",
      ),
    ),
  );
  assert.equal(throwing.found, false);
  assert.match(
    !throwing.found ? throwing.reason : '',
    /binary is missing .*download failed or its install script did not run/,
  );
  assert.match(!throwing.found ? throwing.remedy : '', /npm install-scripts approve electron/);
  const dangling = findElectron(requireFrom(project("module.exports = '/nonexistent/electron/dist/electron';")));
  assert.equal(dangling.found, false);
  assert.match(
    !dangling.found ? dangling.reason : '',
    /no \/nonexistent\/electron\/dist\/electron: its download failed/,
  );
});

test('findElectron: the binary the package names, when it exists', () => {
  const root = project();
  const binary = join(root, 'electron-binary');
  writeFileSync(binary, '#!/bin/sh\n');
  chmodSync(binary, 0o755);
  const found = findElectron(requireFrom(project(`module.exports = ${JSON.stringify(binary)};`)));
  assert.deepEqual(found, { found: true, path: binary });
});

test("packageRootOf and electronMainPath find the app bundle from the package root, not the caller's folder", () => {
  const root = packageRootOf(new URL('../../orchestrator/cli/app-command.ts', import.meta.url).href);
  assert.equal(root, process.cwd());
  assert.equal(electronMainPath(root), join(root, 'electron', 'dist', 'main.mjs'));
});

/** Deps that record what `orrery app` chose. */
function recorder(electron: AppDeps['electron'], mainPath: string) {
  const calls: { app?: { binary: string; args: string[]; env: NodeJS.ProcessEnv }; dashboard?: CliOptions } = {};
  const deps: AppDeps = {
    electron,
    mainPath: () => mainPath,
    runApp: async (binary, args, env) => {
      calls.app = { binary, args, env };
      return 0;
    },
    dashboard: async (opts) => {
      calls.dashboard = { ...opts };
      return 0;
    },
  };
  return { calls, deps };
}

test('orrery app without Electron says why in one line, what to do, and opens the browser dashboard with the same options', async () => {
  const { calls, deps } = recorder(
    () => ({
      found: false,
      reason: 'Electron is not installed (the optional dependency electron is missing)',
      remedy: 'run `npm install electron` with internet access',
    }),
    '/pkg/electron/dist/main.mjs',
  );
  const lines: string[] = [];
  assert.equal(await appCommand([], { example: 'vqe-h2', port: '0' }, (l) => lines.push(l), deps), 0);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    /^orrery app: Electron is not installed .*`npm install electron` with internet access.*browser/,
  );
  assert.deepEqual(calls.dashboard, { example: 'vqe-h2', port: '0' });
  assert.equal(calls.app, undefined);
});

test('orrery app with Electron runs the package main bundle with the options, the head on this Node', async () => {
  const main = join(mkdtempSync(join(tmpdir(), 'orrery-app-main-')), 'main.mjs');
  writeFileSync(main, '');
  const { calls, deps } = recorder(() => ({ found: true, path: '/opt/electron/electron' }), main);
  assert.equal(await appCommand([], { example: 'vqe-h2', port: '8300' }, () => {}, deps), 0);
  assert.deepEqual(calls.app?.args, [main, '--example', 'vqe-h2', '--port', '8300']);
  assert.equal(calls.app?.binary, '/opt/electron/electron');
  assert.equal(calls.app?.env.ORRERY_NODE, process.execPath);
  assert.equal(calls.dashboard, undefined);
});

test('orrery app with Electron but no built main bundle says so and falls back to the browser', async () => {
  const { calls, deps } = recorder(() => ({ found: true, path: '/opt/electron/electron' }), '/nonexistent/main.mjs');
  const lines: string[] = [];
  await appCommand([], {}, (l) => lines.push(l), deps);
  assert.match(lines[0]!, /not built \(\/nonexistent\/main\.mjs is missing; run npm run build/);
  assert.deepEqual(calls.dashboard, {});
});

test('orrery app refuses an unknown example, a bad port and positional arguments before doing anything', async () => {
  const { calls, deps } = recorder(() => ({ found: false, reason: 'x', remedy: 'y' }), '/x');
  await assert.rejects(
    appCommand([], { example: 'nope' }, () => {}, deps),
    /--example must be one of .*vqe-h2/,
  );
  await assert.rejects(
    appCommand([], { port: '99999' }, () => {}, deps),
    /--port must be an integer from 0 to 65535/,
  );
  await assert.rejects(
    appCommand(['extra'], {}, () => {}, deps),
    /takes no arguments \(got extra\)/,
  );
  assert.deepEqual(calls, {});
});
