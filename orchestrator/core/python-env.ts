/**
 * A task's Python environment as it travels: `runtimeEnv.pip` / `runtimeEnv.conda` resolved on
 * the driver's machine (the laptop) into content, and named by the hash of that content. Files
 * the user names there (requirements.txt, environment.yml) travel as text, never as paths; a
 * package given as a local path (a wheel, a project folder) travels as an absolute path, because
 * pip reads it on the node: it must exist there too (a shared file system, or the shipped
 * working directory). Its bytes enter the hash where the driver can read them, so a rebuilt
 * wheel makes a new environment. The agent builds one environment per hash per host
 * (agent/python-envs.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { RuntimeEnv } from './runtime-env.ts';

/** What the agent builds (or finds) for a task. */
export type PythonEnvSpec =
  /** A virtual environment: uv, else `python3 -m venv` and pip. */
  | {
      readonly kind: 'pip';
      readonly hash: string;
      readonly packages: readonly string[];
      /** The text of the requirements file, if one was given. */
      readonly requirements?: string;
    }
  /** A conda environment made from the text of an environment.yml. */
  | { readonly kind: 'conda-file'; readonly hash: string; readonly environment: string }
  /** An existing conda environment on the node, by name. */
  | { readonly kind: 'conda-name'; readonly hash: string; readonly name: string };

/** Hash of a spec's content (the first 16 hex digits of a SHA-256): the environment's folder name. */
export function pythonEnvHash(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/**
 * Resolves a checked runtimeEnv's pip or conda field on the driver's machine: reads the files it
 * names and makes local package paths absolute. Throws a TypeError naming the field when a file
 * cannot be read. Undefined when the runtimeEnv has neither field.
 */
export function resolvePythonEnv(
  where: string,
  env: RuntimeEnv | undefined,
  cwd = process.cwd(),
): PythonEnvSpec | undefined {
  if (env?.pip !== undefined) {
    const pip = env.pip;
    const given = isList(pip) ? pip : (pip.packages ?? []);
    const packages = given.map((p) => localPath(p, cwd) ?? p);
    const reqPath = isList(pip) ? undefined : pip.requirements;
    const requirements =
      reqPath === undefined ? undefined : readText(where, '.pip.requirements', resolve(cwd, reqPath));
    const digests = packages.map((p) => (isAbsolute(p) ? fileDigest(p) : ''));
    const hash = pythonEnvHash(['pip', packages, digests, requirements ?? null]);
    return requirements === undefined ? { kind: 'pip', hash, packages } : { kind: 'pip', hash, packages, requirements };
  }
  if (env?.conda !== undefined) {
    const c = env.conda;
    if (typeof c === 'string') return { kind: 'conda-name', hash: pythonEnvHash(['conda-name', c]), name: c };
    const environment = readText(where, '.conda.environmentFile', resolve(cwd, c.environmentFile));
    return { kind: 'conda-file', hash: pythonEnvHash(['conda-file', environment]), environment };
  }
  return undefined;
}

function isList(p: unknown): p is readonly string[] {
  return Array.isArray(p);
}

/** A requirement that names a local file or folder (`./dist/x.whl`, `/abs/pkg`): its absolute path. */
function localPath(req: string, cwd: string): string | undefined {
  if (isAbsolute(req)) return req;
  if (req.startsWith('./') || req.startsWith('../')) return resolve(cwd, req);
  return undefined;
}

/** The SHA-256 of a local file's bytes ('' for a folder or a path the driver cannot read). */
function fileDigest(path: string): string {
  try {
    if (!existsSync(path) || !statSync(path).isFile()) return '';
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return '';
  }
}

function readText(where: string, field: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TypeError(
      `${where}: option runtimeEnv${field} names ${path}, which cannot be read on this machine (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a file here: its content travels to the nodes`,
    );
  }
}
