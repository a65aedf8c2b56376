/**
 * The installer configuration (electron-builder.json) and `npm run dist:app`'s pre-check
 * (electron/dist-app.ts). electron-builder is not a dependency of the project, so the always-run
 * tests check what the app needs: the targets of the three platforms, the main entry being the
 * bundle `orrery app` runs, and the files list (electron-builder's order: a file is packed when
 * a pattern takes it and no later `!` pattern drops it) taking every file the packaged app runs
 * and nothing of the tests or sources. Where electron-builder's own library resolves (from the
 * folder ELECTRON_BUILDER_DIR names, else from where test/services/install.sh puts it, else from
 * the project), its validator checks the file too; in CI it must resolve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, matchesGlob, relative } from 'node:path';
import { distAppBlocker } from '../../electron/dist-app.ts';
import { electronMainPath } from '../../orchestrator/cli/electron-binary.ts';
import { RENDERER_DIST } from '../../orchestrator/service/dashboard-static.ts';

interface BuilderConfig {
  appId?: string;
  productName?: string;
  directories?: { output?: string };
  extraMetadata?: { main?: string };
  asar?: boolean;
  files?: string[];
  linux?: { target?: string[] };
  mac?: { target?: string[] };
  win?: { target?: string[] };
  publish?: unknown;
}

const config = JSON.parse(readFileSync('electron-builder.json', 'utf8')) as BuilderConfig;

/** True when electron-builder's `files` patterns pack `path` (the last matching pattern decides). */
function packed(path: string, patterns: readonly string[]): boolean {
  let taken = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (matchesGlob(path, negated ? pattern.slice(1) : pattern)) taken = !negated;
  }
  return taken;
}

test('electron-builder.json: an app id and name, AppImage, dmg and NSIS targets, no publishing, output ignored by git', () => {
  assert.match(config.appId ?? '', /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/);
  assert.equal(config.productName, 'Orrery');
  assert.deepEqual(config.linux?.target, ['AppImage']);
  assert.deepEqual(config.mac?.target, ['dmg']);
  assert.deepEqual(config.win?.target, ['nsis']);
  assert.equal(config.publish, null);
  const output = config.directories?.output ?? '';
  assert.ok(output.length > 0);
  assert.ok(readFileSync('.gitignore', 'utf8').split('\n').includes(`${output}/`), `${output}/ in .gitignore`);
});

test("electron-builder.json: the app's main is the bundle orrery app runs, the head and dashboard files are packed, sources and tests are not", () => {
  const main = relative(process.cwd(), electronMainPath(process.cwd()));
  assert.equal(config.extraMetadata?.main, main);
  const files = config.files ?? [];
  const needed = [
    'package.json',
    main,
    'dist/orchestrator/cli/main.js',
    'dist/orchestrator/api/index.js',
    'dist/backends/ssh/ssh-backend.js',
    `${relative(process.cwd(), RENDERER_DIST)}/index.html`,
    `${relative(process.cwd(), RENDERER_DIST)}/assets/app-ABCDEFGH.js`,
    'resources/examples/vqe-h2.ts',
    'resources/sagemaker-instances.json',
  ];
  for (const path of needed) assert.ok(packed(path, files), `${path} is packed`);
  const left = [
    'test/unit/app-command.test.ts',
    'bench/run.ts',
    'orchestrator/cli/main.ts',
    'electron/main.ts',
    'renderer/src/main.ts',
    'dist/orchestrator/cli/main.js.map',
    'dist/orchestrator/api/index.d.ts',
    'dist/test/unit/x.test.js',
    'release/Orrery-0.1.0.AppImage',
  ];
  for (const path of left) assert.ok(!packed(path, files), `${path} is not packed`);
  assert.equal(config.asar, false, 'the head runs from the unpacked files as a child Node process');
});

/** Where test/services/install.sh installs electron-builder (`npm test` runs it first). */
const SERVICES_BUILDER = '/var/lib/orrery-test/electron-builder';
const builderDir =
  process.env.ELECTRON_BUILDER_DIR ?? (existsSync(SERVICES_BUILDER) ? SERVICES_BUILDER : process.cwd());
let appBuilderConfig: string | undefined;
try {
  appBuilderConfig = createRequire(join(builderDir, 'package.json')).resolve('app-builder-lib/out/util/config/config');
} catch {
  appBuilderConfig = undefined;
}

test("electron-builder.json passes electron-builder's own validator, which refuses a broken copy", {
  skip:
    appBuilderConfig || process.env.CI
      ? false
      : `electron-builder is not installed in ${builderDir} (not a project dependency): run test/services/install.sh, or set ELECTRON_BUILDER_DIR to a folder with electron-builder@26.17.0 installed`,
}, async () => {
  assert.ok(
    appBuilderConfig,
    `electron-builder is not installed in ${builderDir}: CI runs test/services/install.sh first`,
  );
  const req = createRequire(appBuilderConfig!);
  const { validateConfiguration } = req(appBuilderConfig!) as {
    validateConfiguration(c: unknown, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = req('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(structuredClone(config), new DebugLogger(false));
  await assert.rejects(
    validateConfiguration({ ...structuredClone(config), linux: { targets: ['AppImage'] } }, new DebugLogger(false)),
    /does not match the API schema[\s\S]*configuration\.linux/,
  );
});

/** A project whose node_modules/electron has `index` as its main (undefined: no electron package). */
function project(index?: string): NodeJS.Require {
  const root = mkdtempSync(join(tmpdir(), 'orrery-dist-app-'));
  writeFileSync(join(root, 'package.json'), '{"name":"p"}');
  if (index !== undefined) {
    mkdirSync(join(root, 'node_modules', 'electron'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'electron', 'package.json'), '{"name":"electron","main":"index.js"}');
    writeFileSync(join(root, 'node_modules', 'electron', 'index.js'), index);
  }
  return createRequire(join(root, 'package.json'));
}

test('npm run dist:app stops at once, saying what to do, where Electron or its binary is missing; goes on where the binary exists', () => {
  const req = project;
  assert.match(
    distAppBlocker(req(), '20.20.2') ?? '',
    /^Electron is not installed \(npm skips the optional dependency electron, which needs Node 22\.12\+, on this Node 20\.20\.2\)/,
  );
  assert.match(
    distAppBlocker(req(), '22.12.0') ?? '',
    /^Electron is not installed .*github\.com.*`npm install electron`, then `npm run dist:app`$/,
  );
  assert.match(
    distAppBlocker(req("throw new Error('Electron failed to install correctly');")) ?? '',
    /binary is missing/,
  );
  assert.match(distAppBlocker(req("module.exports = '/nonexistent/electron';")) ?? '', /binary is missing/);
  assert.equal(distAppBlocker(req(`module.exports = ${JSON.stringify(process.execPath)};`)), undefined);
});
