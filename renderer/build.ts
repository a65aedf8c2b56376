/**
 * Builds the dashboard into renderer/dist: index.html and, under assets/, the bundle of
 * renderer/src/main.ts (esbuild) and its stylesheet, named by their content hash
 * (`app-<hash>.js`, `app-<hash>.css`) so the head can serve them `immutable` while index.html,
 * which names them, is fetched anew every time. Run with `npm run build:renderer`; `--watch`
 * rebuilds. `npm run dev:dashboard` (dev-server.ts) builds with the same options into a folder of
 * its own.
 */
import { build, context, type BuildOptions, type BuildResult, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = join(here, 'dist');

/** Writes `out`/index.html with the names of the bundle and stylesheet this build made. */
function writeIndex(out: string, result: BuildResult<{ metafile: true }>): void {
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const pick = (ext: string) => {
    const name = outputs.find((o) => o.startsWith('app-') && o.endsWith(ext));
    if (!name) throw new Error(`renderer build: esbuild wrote no app-<hash>${ext} (outputs: ${outputs.join(', ')})`);
    return `assets/${name}`;
  };
  const html = readFileSync(join(here, 'index.html'), 'utf8')
    .replace('assets/app.css', pick('.css'))
    .replace('assets/app.js', pick('.js'));
  writeFileSync(join(out, 'index.html'), html);
}

/** Rewrites `out`/index.html after every build (also in watch mode). */
function indexPlugin(out: string): Plugin {
  return {
    name: 'orrery-index',
    setup(b) {
      b.onEnd((result) => {
        if (result.errors.length === 0 && result.metafile) writeIndex(out, result as BuildResult<{ metafile: true }>);
      });
    },
  };
}

/**
 * The esbuild options that build the dashboard into `out` (index.html, assets/), emptied first:
 * old hashed files would pile up. `dev`: not minified. `plugins` run after the index is written.
 */
export function rendererBuildOptions(out: string, dev: boolean, plugins: Plugin[] = []): BuildOptions {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  return {
    // main.ts imports styles.css, so esbuild writes app-<hash>.css beside app-<hash>.js.
    entryPoints: { app: join(here, 'src/main.ts') },
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: !dev,
    sourcemap: true,
    metafile: true,
    outdir: join(out, 'assets'),
    logLevel: 'warning',
    plugins: [indexPlugin(out), ...plugins],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = rendererBuildOptions(DIST, process.argv.includes('--dev'));
  if (process.argv.includes('--watch')) {
    const ctx = await context(options);
    await ctx.watch();
    console.log('renderer: watching for changes');
  } else {
    await build(options);
    console.log(`renderer: built ${DIST}`);
  }
}
