/**
 * Builds the dashboard into renderer/dist: index.html, assets/app.js (renderer/src/main.ts
 * bundled by esbuild) and assets/app.css. Run with `npm run build:renderer`; `--watch` rebuilds.
 */
import { build, context, type BuildOptions } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
mkdirSync(join(out, 'assets'), { recursive: true });
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));

const options: BuildOptions = {
  // main.ts imports styles.css, so esbuild writes assets/app.css beside assets/app.js.
  entryPoints: { app: join(here, 'src/main.ts') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: !process.argv.includes('--dev'),
  sourcemap: true,
  outdir: join(out, 'assets'),
  logLevel: 'warning',
};

if (process.argv.includes('--watch')) {
  const ctx = await context(options);
  await ctx.watch();
  console.log('renderer: watching for changes');
} else {
  await build(options);
  console.log(`renderer: built ${out}`);
}
