/**
 * The root of this package, wherever it is installed: the folder whose package.json names
 * `orrery-compute`, found from this module's own location (`<root>/orchestrator/core` from the
 * sources, `<root>/dist/orchestrator/core` once built). Runtime files (the built dashboard,
 * resources/, the Electron shell) are found from here, never from a working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's name on the npm registry (the command stays `orrery`). */
export const PACKAGE_NAME = 'orrery-compute';

/** The root of the `orrery-compute` package that holds `fileUrl` (sources, dist/, a bundle, node_modules). */
export function packageRootOf(fileUrl: string): string {
  const start = dirname(fileURLToPath(fileUrl));
  for (let dir = start; dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    try {
      if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
    } catch {
      // Not ours; keep climbing.
    }
  }
  throw new Error(`no ${PACKAGE_NAME} package.json above ${fileURLToPath(fileUrl)}; reinstall ${PACKAGE_NAME}`);
}

let root: string | undefined;

/**
 * The package's root folder, looked up on first use: a module that imports this one also loads
 * where no package surrounds it (the ssh agent bundle's chunks), and must not fail there.
 */
export function packageRoot(): string {
  root ??= packageRootOf(import.meta.url);
  return root;
}

/** A path inside the package (`packagePath('resources', 'x.json')`). */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
