/**
 * `npm run dist:app [-- --linux|--mac|--win]`: the desktop installers (electron-builder.json:
 * Linux AppImage, macOS dmg, Windows NSIS) into release/. electron-builder packs the Electron
 * binary of each target platform, which it downloads from github.com, and takes its version
 * from the installed `electron` package; so where Electron is not installed (its own download
 * failed, as on machines without internet access) this stops at once with what to do, instead
 * of hanging on a download. electron-builder is not a dependency of the project (279 packages,
 * 93 MB): npx fetches the pinned version when an installer is built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The electron-builder release the configuration is written (and validated) for. */
export const ELECTRON_BUILDER_VERSION = '26.17.0';

/** The part of `require` the check uses. */
export interface ElectronRequire {
  (id: string): unknown;
  resolve(id: string): string;
}

/** Why installers cannot be built here (undefined: Electron is installed with its binary), on Node `nodeVersion`. */
export function distAppBlocker(req: ElectronRequire, nodeVersion: string = process.versions.node): string | undefined {
  const todo =
    'electron-builder packs the Electron binary of each target platform, downloaded from github.com; on a machine with internet access and Node 22.12+ run `npm install electron`, then `npm run dist:app`';
  try {
    req.resolve('electron');
  } catch {
    const [major = 0, minor = 0] = nodeVersion.split('.').map(Number);
    const old = major < 22 || (major === 22 && minor < 12);
    return `Electron is not installed (${old ? `npm skips the optional dependency electron, which needs Node 22.12+, on this Node ${nodeVersion}` : 'the optional dependency electron is missing'}): ${todo}`;
  }
  let binary: unknown;
  try {
    binary = req('electron');
  } catch {
    binary = undefined;
  }
  if (typeof binary !== 'string' || !existsSync(binary))
    return `Electron's binary is missing (its download failed when electron was installed): ${todo}`;
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const blocker = distAppBlocker(createRequire(import.meta.url));
  if (blocker) {
    process.stderr.write(`npm run dist:app: ${blocker}\n`);
    process.exit(1);
  }
  const steps: [string, string[]][] = [
    ['npm', ['run', 'build']],
    [
      'npx',
      [
        '--yes',
        `electron-builder@${ELECTRON_BUILDER_VERSION}`,
        '--config',
        'electron-builder.json',
        '--publish',
        'never',
        ...process.argv.slice(2),
      ],
    ],
  ];
  for (const [cmd, args] of steps) {
    const run = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
    if (run.status !== 0) {
      process.stderr.write(`npm run dist:app: ${cmd} ${args.join(' ')} failed (exit ${run.status ?? run.signal})\n`);
      process.exit(1);
    }
  }
}
