/**
 * `runtimeEnv`: what a task needs on its node besides its code, as Ray's `runtime_env` says it:
 * environment variables, the project's code (a local directory shipped once per content hash),
 * a Python environment (pip or conda) and, for command tasks, a container image. Checked here
 * where it enters; every error names the field, what was given and what is allowed.
 */

/** Ray's `pip` field: a package list, or `{ packages, requirements }` (a requirements.txt path on the laptop). */
export type PipEnv = readonly string[] | { readonly packages?: readonly string[]; readonly requirements?: string };

/** Ray's `conda` field: the name of an existing environment, or an environment.yml on the laptop. */
export type CondaEnv = string | { readonly environmentFile: string };

/** The container a command task runs in. */
export interface ContainerEnv {
  /**
   * An image name (`docker.io/library/python:3.12`), or the absolute path of a `.sif` or an image
   * archive (`podman save`, docker or OCI format) on the node (for the local backend, this machine).
   */
  readonly image: string;
  /** The runtime on the node; default: the first of apptainer, podman, docker found there. */
  readonly runtime?: 'apptainer' | 'podman' | 'docker';
  /** Extra words for the runtime's `run` (`['--shm-size=8g']`). */
  readonly options?: readonly string[];
}

/** A task's runtime environment. */
export interface RuntimeEnv {
  /**
   * A directory on the laptop (the driver's machine): packed once per content hash (honouring
   * its `.gitignore` and `excludes`), shipped once per node and unpacked into a cache shared by
   * tasks, which run in it.
   */
  readonly workingDir?: string;
  /** Patterns (`.gitignore` syntax) left out of `workingDir`. */
  readonly excludes?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly pip?: PipEnv;
  readonly conda?: CondaEnv;
  /** Command tasks only. */
  readonly container?: ContainerEnv;
}

const KEYS = ['workingDir', 'excludes', 'env', 'pip', 'conda', 'container'];
const CONTAINER_RUNTIMES = ['apptainer', 'podman', 'docker'];

/** Checks a `runtimeEnv` option; returns it unchanged (or undefined) or throws a TypeError naming the field. */
export function checkRuntimeEnv(where: string, v: unknown): RuntimeEnv | undefined {
  if (v === undefined) return undefined;
  const fail = (field: string, got: unknown, allowed: string): never => {
    throw new TypeError(`${where}: option runtimeEnv${field} must be ${allowed} (got ${show(got)})`);
  };
  if (!isObject(v)) fail('', v, `an object with some of ${KEYS.join(', ')}`);
  const env = v as Record<string, unknown>;
  for (const k of Object.keys(env))
    if (!KEYS.includes(k)) throw new TypeError(`${where}: unknown runtimeEnv field ${k}; allowed: ${KEYS.join(', ')}`);
  if (env.workingDir !== undefined && !nonEmpty(env.workingDir))
    fail('.workingDir', env.workingDir, 'a directory path');
  if (env.excludes !== undefined && !isStringList(env.excludes))
    fail('.excludes', env.excludes, 'a list of .gitignore-style patterns');
  if (env.env !== undefined && !(isObject(env.env) && Object.values(env.env).every((x) => typeof x === 'string')))
    fail('.env', env.env, 'an object of string values');
  if (env.pip !== undefined) {
    const pip = env.pip;
    const ok = isStringList(pip) || (isObject(pip) && pipObjectOk(pip as Record<string, unknown>));
    if (!ok) fail('.pip', pip, "a list of requirement strings, or { packages?: string[], requirements?: 'path' }");
  }
  if (env.conda !== undefined) {
    const c = env.conda;
    const ok =
      nonEmpty(c) ||
      (isObject(c) &&
        Object.keys(c).join() === 'environmentFile' &&
        nonEmpty((c as Record<string, unknown>).environmentFile));
    if (!ok) fail('.conda', c, "an environment name, or { environmentFile: 'environment.yml' }");
  }
  if (env.pip !== undefined && env.conda !== undefined)
    throw new TypeError(`${where}: runtimeEnv takes pip or conda, not both (list pip packages in the conda file)`);
  if (env.container !== undefined) {
    const c = env.container as Record<string, unknown>;
    if (!isObject(c) || !nonEmpty(c.image))
      fail(
        '.container',
        c,
        "{ image: 'name or path', runtime?: 'apptainer' | 'podman' | 'docker', options?: string[] }",
      );
    for (const k of Object.keys(c))
      if (!['image', 'runtime', 'options'].includes(k))
        throw new TypeError(`${where}: unknown runtimeEnv.container field ${k}; allowed: image, runtime, options`);
    if (c.runtime !== undefined && !CONTAINER_RUNTIMES.includes(c.runtime as string))
      fail('.container.runtime', c.runtime, "'apptainer', 'podman' or 'docker'");
    if (c.options !== undefined && !isStringList(c.options)) fail('.container.options', c.options, 'a list of strings');
  }
  return env as RuntimeEnv;
}

function pipObjectOk(p: Record<string, unknown>): boolean {
  if (Object.keys(p).some((k) => k !== 'packages' && k !== 'requirements')) return false;
  if (p.packages === undefined && p.requirements === undefined) return false;
  return (
    (p.packages === undefined || isStringList(p.packages)) && (p.requirements === undefined || nonEmpty(p.requirements))
  );
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(nonEmpty);
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
