/**
 * Bundles the Electron shell into electron/dist/main.mjs (ESM main process; the window has no
 * preload). `electron` stays external.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds the main process bundle. */
export async function buildElectron(): Promise<void> {
  await build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: ['electron'],
    logLevel: 'warning',
    sourcemap: true,
    entryPoints: [join(here, 'main.ts')],
    format: 'esm',
    outfile: join(here, 'dist', 'main.mjs'),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildElectron();
