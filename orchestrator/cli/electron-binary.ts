/**
 * Finding the desktop app's parts from the installed `orrery-compute` package: the Electron main bundle
 * (electron/dist/main.mjs, built by `npm run build`) and the Electron binary. `electron` is an
 * optional dependency: its npm package's main export is the path of the binary its install
 * script downloaded, and where that download failed npm skipped the package.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Where the Electron main process bundle of the package at `root` is. */
export function electronMainPath(root: string): string {
  return join(root, 'electron', 'dist', 'main.mjs');
}

/** The oldest Node that npm installs Electron 41+ under (its `engines`); below it npm skips the optional dependency. */
export const ELECTRON_MIN_NODE = '22.12.0';

/** True when Node `version` (e.g. `20.20.2`) is older than ELECTRON_MIN_NODE. */
export function nodeTooOldForElectron(version: string): boolean {
  const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
  const [x, y, z] = ELECTRON_MIN_NODE.split('.').map(Number) as [number, number, number];
  return a !== x ? a < x : b !== y ? b < y : c < z;
}

/** What the look-up found. */
export type ElectronLookup =
  /** The binary exists at `path`. */
  | { readonly found: true; readonly path: string }
  /** No binary: `reason` says why and `remedy` what to do, each a clause of one line of output. */
  | { readonly found: false; readonly reason: string; readonly remedy: string };

/** The part of Node's `require` the look-up uses (createRequire gives one; tests pass one rooted elsewhere). */
export interface PackageRequire {
  (id: string): unknown;
  resolve(id: string): string;
}

const INSTALL = 'run `npm install electron` with internet access';

/**
 * Looks up the Electron binary through the `electron` package, as resolved by `req` (from this
 * package by default), on Node `nodeVersion`.
 */
export function findElectron(
  req: PackageRequire = createRequire(import.meta.url),
  nodeVersion: string = process.versions.node,
): ElectronLookup {
  try {
    req.resolve('electron');
  } catch {
    if (nodeTooOldForElectron(nodeVersion))
      return {
        found: false,
        reason: `Electron is not installed (npm skips the optional dependency electron, which needs Node ${ELECTRON_MIN_NODE} or newer, on this Node ${nodeVersion})`,
        remedy: `use Node ${ELECTRON_MIN_NODE}+ and ${INSTALL}`,
      };
    return {
      found: false,
      reason: 'Electron is not installed (the optional dependency electron is missing)',
      remedy: INSTALL,
    };
  }
  let path: unknown;
  try {
    path = req('electron');
  } catch {
    path = undefined;
  }
  if (typeof path !== 'string' || !existsSync(path))
    return {
      found: false,
      reason: `Electron's binary is missing (${typeof path === 'string' ? `no ${path}` : 'the electron package names none'}: its download failed or its install script did not run)`,
      remedy: `${INSTALL} (npm 11 runs its install script only once allowed: npm install-scripts approve electron)`,
    };
  return { found: true, path };
}
