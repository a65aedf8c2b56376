/**
 * Finding the desktop app's parts from the installed `orrery-compute` package: the package root
 * (the nearest folder above this file whose package.json is named `orrery-compute`, so it works
 * from the sources, from dist/ and from node_modules/orrery-compute), the Electron main bundle
 * (electron/dist/main.mjs, built by `npm run build`) and the Electron binary. `electron` is an
 * optional dependency: its npm package's main export is the path of the binary its install
 * script downloaded, and where that download failed npm skipped the package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The npm name of this package. */
const PACKAGE_NAME = 'orrery-compute';

/** The root of the `orrery-compute` package that holds `fileUrl`. */
export function packageRootOf(fileUrl: string): string {
  let dir = dirname(fileURLToPath(fileUrl));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // Not ours (unreadable); look further up.
      }
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`no ${PACKAGE_NAME} package.json above ${fileURLToPath(fileUrl)}; reinstall ${PACKAGE_NAME}`);
    dir = up;
  }
}

/** Where the Electron main process bundle of the package at `root` is. */
export function electronMainPath(root: string): string {
  return join(root, 'electron', 'dist', 'main.mjs');
}

/** What the look-up found: the binary, or why there is none. */
export type ElectronLookup =
  /** The binary exists at `path`. */
  | { readonly found: true; readonly path: string }
  /** No binary; `reason` says why, for one line of output. */
  | { readonly found: false; readonly reason: string };

/** The part of Node's `require` the look-up uses (createRequire gives one; tests pass one rooted elsewhere). */
export interface PackageRequire {
  (id: string): unknown;
  resolve(id: string): string;
}

/** Looks up the Electron binary through the `electron` package, as resolved by `req` (from this package by default). */
export function findElectron(req: PackageRequire = createRequire(import.meta.url)): ElectronLookup {
  try {
    req.resolve('electron');
  } catch {
    return { found: false, reason: 'Electron is not installed (the optional dependency electron is missing)' };
  }
  let path: unknown;
  try {
    path = req('electron');
  } catch {
    return { found: false, reason: "Electron's binary is missing (its download failed when electron was installed)" };
  }
  if (typeof path !== 'string' || !existsSync(path))
    return {
      found: false,
      reason: `Electron's binary is missing (${typeof path === 'string' ? path : 'the electron package names none'}; its download failed when electron was installed)`,
    };
  return { found: true, path };
}
