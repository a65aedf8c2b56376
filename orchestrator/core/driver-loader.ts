/**
 * The Node flags that run a driver script, TypeScript or JavaScript, as an ES module
 * (`orrery run`, the dashboard's examples): one `--import` of a data: URL that registers
 * driver-loader-hooks with esbuild from this package. Nothing is written to disk, and nothing
 * depends on the script's folder having tsx or `"type": "module"`.
 *
 * From the sources (this file is .ts: a repository checkout), tsx's loader comes first, so that
 * tsconfig's `paths` map `orrery-compute` to the sources the CLI itself runs.
 */
import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const fromSources = extname(here) === '.ts';

let cached: string[] | undefined;

/** `--import <register>` (after `--import tsx` from the sources). */
export function driverNodeFlags(): string[] {
  if (cached) return cached;
  const hooksFile = fileURLToPath(new URL(`./driver-loader-hooks${extname(here)}`, import.meta.url));
  const hooks = transformSync(readFileSync(hooksFile, 'utf8'), { loader: 'ts', format: 'esm', minify: true }).code;
  const hooksUrl = `data:text/javascript;base64,${Buffer.from(hooks).toString('base64')}`;
  const data = { esbuild: import.meta.resolve('esbuild') };
  const register = `import{register}from'node:module';register(${JSON.stringify(hooksUrl)},{data:${JSON.stringify(data)}});`;
  const flags = ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
  cached = fromSources ? ['--import', import.meta.resolve('tsx'), ...flags] : flags;
  return cached;
}
