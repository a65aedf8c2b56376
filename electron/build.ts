/**
 * Bundles the Electron shell into electron/dist: main.mjs (ESM main process) and preload.cjs
 * (a sandboxed preload must be one CommonJS file). `electron` stays external.
 */
import { build, type BuildOptions } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds both bundles. */
export async function buildElectron(): Promise<void> {
  const common: BuildOptions = { bundle: true, platform: 'node', target: 'node20', external: ['electron'], logLevel: 'warning', sourcemap: true };
  await build({ ...common, entryPoints: [join(here, 'main.ts')], format: 'esm', outfile: join(here, 'dist', 'main.mjs') });
  await build({ ...common, entryPoints: [join(here, 'preload.ts')], format: 'cjs', outfile: join(here, 'dist', 'preload.cjs') });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildElectron();
