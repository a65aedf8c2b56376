/**
 * `module:<package or path>` backends: third-party code the head imports (the contract is
 * `createBackend(config)` returning a Backend, backends/types.ts). Importing runs the module,
 * so where a config came from decides whether it may name one at all, and how its path is read:
 *
 * - a config file: a package, or a path relative to that file (`./` or `../`);
 * - the user's own process (an embedded `init({ backends })`): also absolute paths;
 * - the HTTP API and client drivers: nothing, unless the head was started with
 *   `--allow-module-backends` (then as from a config file, relative to a directory the head names).
 *
 * URLs (`data:`, `file:`, `http:`...) are refused from every source. Checking a spec
 * ({@link moduleTarget}) imports nothing, so a config can be validated without running it.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from '../../backends/types.ts';
import { ModuleBackendRefusedError } from '../core/errors.ts';

/** Whether, and how, the configs of one source may name module backends. */
export type ModulePolicy =
  /** Packages and paths relative to `baseDir`, which `baseName` describes in messages ("the config file"). */
  | { readonly allow: 'relative'; readonly baseDir: string; readonly baseName: string }
  /** The user's own code: packages, paths relative to `baseDir`, and absolute paths. */
  | { readonly allow: 'any-path'; readonly baseDir: string }
  /** No module backends; `why` says how to add one instead. */
  | { readonly allow: 'none'; readonly why: string };

/** What a head allows client drivers by default: no code of theirs is loaded. */
export const DRIVER_MODULES_REFUSED: ModulePolicy = {
  allow: 'none',
  why: "a client driver cannot add module backends: put the backend in the head's config file, or start the head with orrery start --allow-module-backends",
};

/** The policy of a config file at `path`. */
export function configFileModules(path: string, baseDir: string): ModulePolicy {
  return { allow: 'relative', baseDir, baseName: `the config file (${path})` };
}

/** How a `module:` kind is written, for the list of allowed kinds in messages. */
export function moduleKindHint(policy: ModulePolicy): string {
  switch (policy.allow) {
    case 'relative':
      return "'module:<package or ./path relative to this file>'";
    case 'any-path':
      return "'module:<package or path>'";
    case 'none':
      return 'no module backends here';
  }
}

// npm package names (optionally scoped), with an optional subpath.
const PACKAGE = /^(?:@[a-z0-9~][\w.~-]*\/)?[a-z0-9~][\w.~-]*(?:\/[\w.~-]+)*$/i;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * What to import for `spec` under `policy`: a package name, or a file URL.
 *
 * @throws ModuleBackendRefusedError saying what the source allows.
 */
export function moduleTarget(spec: string, policy: ModulePolicy, backend: string): string {
  if (policy.allow === 'none') throw new ModuleBackendRefusedError(backend, spec, policy.why);
  const allowed =
    policy.allow === 'relative'
      ? `name a package, or a path relative to ${policy.baseName} starting with './' or '../'`
      : 'name a package or a file path';
  if (spec.startsWith('./') || spec.startsWith('../')) return pathToFileURL(resolve(policy.baseDir, spec)).href;
  if (isAbsolute(spec) || spec.startsWith('/') || spec.startsWith('\\')) {
    if (policy.allow === 'any-path') return pathToFileURL(spec).href;
    throw new ModuleBackendRefusedError(backend, spec, `absolute paths are refused here; ${allowed}`);
  }
  if (URL_SCHEME.test(spec)) throw new ModuleBackendRefusedError(backend, spec, `URLs are never loaded; ${allowed}`);
  if (!PACKAGE.test(spec)) throw new ModuleBackendRefusedError(backend, spec, allowed);
  return spec;
}

/** Imports a module backend and makes the backend from `config`; the module must export `createBackend` (or a default function). */
export async function loadModuleBackend(
  spec: string,
  config: Record<string, unknown>,
  policy: ModulePolicy,
): Promise<Backend> {
  const name = String(config.name);
  const target = moduleTarget(spec, policy, name);
  let mod: { default?: unknown; createBackend?: unknown };
  try {
    mod = (await import(target)) as typeof mod;
  } catch (err) {
    throw new Error(`backend ${name}: cannot load module ${spec}: ${(err as Error).message}`);
  }
  const factory = (mod.createBackend ?? mod.default) as
    | ((c: Record<string, unknown>) => Backend | Promise<Backend>)
    | undefined;
  if (typeof factory !== 'function')
    throw new TypeError(
      `backend ${name}: module ${spec} must export createBackend(config) (or a default function) returning a Backend`,
    );
  const backend = await factory(config);
  for (const m of ['start', 'shutdown'] as const) {
    if (typeof (backend as unknown as Record<string, unknown>)?.[m] !== 'function')
      throw new TypeError(`backend ${name}: module ${spec} returned an object without ${m}(); see backends/types.ts`);
  }
  return backend;
}
