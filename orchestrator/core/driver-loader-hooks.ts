/**
 * Module hooks (node:module `register`) that run a TypeScript driver as an ES module whatever its
 * folder's package.json says: `.ts`, `.mts` and `.tsx` files (the package's own examples in
 * node_modules among them) are compiled with esbuild to ESM, so top-level `await` works without `"type": "module"`. Relative imports
 * written as TypeScript sees them (`./util.js` for util.ts, or `./util` without an extension)
 * resolve to the TypeScript file.
 *
 * This module is self-contained: driver-loader.ts compiles it and registers it from a data: URL,
 * handing it esbuild's URL as `data` (a data: URL cannot resolve bare package names).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Transform = typeof import('esbuild').transform;

interface ResolveContext {
  readonly parentURL?: string;
  readonly conditions: string[];
  readonly importAttributes?: Record<string, string>;
}
interface ResolveResult {
  readonly url: string;
  readonly format?: string | null;
  readonly shortCircuit?: boolean;
}
interface LoadContext {
  readonly format?: string | null;
  readonly conditions: string[];
  readonly importAttributes?: Record<string, string>;
}
interface LoadResult {
  readonly format: string;
  readonly source?: string | Uint8Array | null;
  readonly shortCircuit?: boolean;
}

let transform: Transform | undefined;

/** Receives `{ esbuild }`: the URL of the esbuild package this installation carries. */
export async function initialize(data: { esbuild: string }): Promise<void> {
  transform = ((await import(data.esbuild)) as { transform: Transform }).transform;
}

const TS = /\.(ts|mts|tsx)$/;

/** A file, not a folder. */
function isFile(url: URL): boolean {
  try {
    return statSync(url).isFile();
  } catch {
    return false;
  }
}

/** The TypeScript files a relative specifier may mean, in the order TypeScript looks. */
function candidates(specifier: string): string[] {
  const js = /\.(m?)js(x?)$/.exec(specifier);
  if (js) {
    const stem = specifier.slice(0, -js[0].length);
    return js[2] ? [`${stem}.tsx`] : [`${stem}.${js[1]}ts`, ...(js[1] ? [] : [`${stem}.tsx`])];
  }
  return [`${specifier}.ts`, `${specifier}.tsx`, `${specifier}/index.ts`, `${specifier}/index.tsx`];
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  try {
    return await next(specifier, context);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const relative = /^(\.{1,2}\/|\/|file:)/.test(specifier);
    const parent = context.parentURL;
    if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT') || !relative || !parent) throw err;
    for (const candidate of candidates(specifier)) {
      const url = new URL(candidate, parent);
      if (isFile(url)) return { url: url.href, format: 'module', shortCircuit: true };
    }
    throw err;
  }
}

export async function load(
  url: string,
  context: LoadContext,
  next: (url: string, context: LoadContext) => Promise<LoadResult>,
): Promise<LoadResult> {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname) || !transform) return next(url, context);
  const path = fileURLToPath(url);
  try {
    const result = await transform(readFileSync(path, 'utf8'), {
      loader: path.endsWith('x') ? 'tsx' : 'ts',
      format: 'esm',
      target: `node${process.versions.node}`,
      sourcefile: path,
      sourcemap: 'inline',
      tsconfigRaw: tsconfigOf(path),
    });
    return { format: 'module', source: result.code, shortCircuit: true };
  } catch (err) {
    throw syntaxError(err, path);
  }
}

interface EsbuildMessage {
  readonly text: string;
  readonly location?: { readonly line: number; readonly column: number; readonly lineText: string } | null;
}

/** esbuild's failure as one SyntaxError a user reads: where, what, and the line, without esbuild's internals. */
function syntaxError(err: unknown, path: string): Error {
  const first = (err as { errors?: EsbuildMessage[] }).errors?.[0];
  if (!first) return err as Error;
  const at = first.location;
  const where = at ? `${path}:${at.line}:${at.column + 1}` : path;
  const error = new SyntaxError(`${where}: ${first.text}`);
  error.stack = `SyntaxError: ${where}: ${first.text}${at ? `\n    ${at.lineText}\n    ${' '.repeat(at.column)}^` : ''}`;
  return error;
}

/** The compiler options esbuild reads (decorators, JSX), from the nearest tsconfig.json; `{}` without one. */
function tsconfigOf(path: string): string {
  let dir = pathToFileURL(path);
  for (let up = 0; up < 32; up++) {
    const next = new URL('..', dir);
    if (next.href === dir.href) break;
    dir = next;
    const file = new URL('tsconfig.json', dir);
    if (!existsSync(file)) continue;
    try {
      // tsconfig.json allows comments and trailing commas; esbuild parses it the same way.
      return readFileSync(file, 'utf8');
    } catch {
      return '{}';
    }
  }
  return '{}';
}
