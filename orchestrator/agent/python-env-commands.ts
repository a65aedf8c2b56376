/**
 * The pure part of building a Python environment on a node: which installer the host has, the
 * command lines that build a spec (core/python-env.ts) into a folder, and the variables that
 * activate it. agent/python-envs.ts runs them; unit tests compare the lines.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { PythonEnvSpec } from '../core/python-env.ts';

/** A conda-like installer and its flavour (micromamba's `create` differs from conda's `env create`). */
export interface CondaTool {
  readonly exe: string;
  readonly flavor: 'conda' | 'mamba' | 'micromamba';
}

/** The installers found on a host (absolute paths). */
export interface HostTools {
  readonly uv?: string;
  readonly python3?: string;
  readonly conda?: CondaTool;
}

/** One command of a build. */
export interface BuildStep {
  /** What it does, for messages (`pip install`). */
  readonly label: string;
  readonly argv: readonly string[];
}

/** Files a build writes before its steps run, in its private scratch folder. */
export interface BuildFiles {
  /** The requirements file a pip build installs (`-r`), when there is anything to install. */
  readonly requirements?: string;
  /** The environment.yml of a conda build. */
  readonly environment?: string;
}

/** The text of the requirements file of a pip spec (its packages, one a line, then the user's file), or undefined when there is nothing to install. */
export function requirementsText(spec: Extract<PythonEnvSpec, { kind: 'pip' }>): string | undefined {
  const lines = [...spec.packages];
  if (spec.requirements !== undefined) lines.push(spec.requirements);
  const text = lines.join('\n').trim();
  return text === '' ? undefined : `${text}\n`;
}

/**
 * The steps that build `spec` into `prefix` with `tools`; the files they read are in `files`.
 * Throws an Error naming what to install when the host has no suitable tool.
 */
export function buildSteps(spec: PythonEnvSpec, prefix: string, files: BuildFiles, tools: HostTools): BuildStep[] {
  if (spec.kind === 'pip') {
    const python = join(prefix, 'bin', 'python');
    const req = files.requirements;
    if (tools.uv) {
      const venv = [tools.uv, 'venv', '--quiet', ...(tools.python3 ? ['--python', tools.python3] : []), prefix];
      const steps: BuildStep[] = [{ label: 'uv venv', argv: venv }];
      if (req)
        steps.push({ label: 'uv pip install', argv: [tools.uv, 'pip', 'install', '--python', python, '-r', req] });
      return steps;
    }
    if (!tools.python3)
      throw new Error('neither uv nor python3 is on the PATH of this host; install one of them (uv: astral.sh/uv)');
    const steps: BuildStep[] = [{ label: 'python3 -m venv', argv: [tools.python3, '-m', 'venv', prefix] }];
    if (req)
      steps.push({
        label: 'pip install',
        argv: [python, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', req],
      });
    return steps;
  }
  const conda = tools.conda;
  if (!conda)
    throw new Error(
      'no conda, mamba or micromamba on this host (looked at CONDA_EXE, MAMBA_EXE, the PATH and ~/miniforge3, ~/miniconda3, ~/anaconda3); install one, or use runtimeEnv.pip',
    );
  if (spec.kind === 'conda-name') return [{ label: 'conda env list', argv: [conda.exe, 'env', 'list', '--json'] }];
  const file = files.environment ?? '';
  const argv =
    conda.flavor === 'micromamba'
      ? [conda.exe, 'create', '--yes', '--prefix', prefix, '--file', file]
      : [conda.exe, 'env', 'create', '--prefix', prefix, '--file', file];
  return [{ label: `${conda.flavor} env create`, argv }];
}

/**
 * The prefix of the conda environment called `name`, from the JSON of `conda env list --json`
 * (`{ envs: [prefix, ...] }`; micromamba's is the same). `base` is the root prefix, the first
 * listed when the JSON has no `root_prefix`. Undefined when no environment has that name.
 */
export function condaPrefixOf(json: string, name: string): string | undefined {
  let parsed: { envs?: unknown; root_prefix?: unknown };
  try {
    parsed = JSON.parse(json) as typeof parsed;
  } catch {
    return undefined;
  }
  const envs = Array.isArray(parsed.envs) ? parsed.envs.filter((e): e is string => typeof e === 'string') : [];
  if (name === 'base') return typeof parsed.root_prefix === 'string' ? parsed.root_prefix : envs[0];
  if (name.startsWith('/')) return envs.find((e) => e === name);
  return envs.find((e) => e.split('/').pop() === name && e.split('/').at(-2) === 'envs');
}

/** The variables that activate an environment for a task: its bin folder first on `basePath`. */
export function activationEnv(
  kind: PythonEnvSpec['kind'],
  prefix: string,
  basePath: string | undefined,
  condaName?: string,
): Record<string, string> {
  const PATH = basePath ? `${join(prefix, 'bin')}${delimiter}${basePath}` : join(prefix, 'bin');
  if (kind === 'pip') return { VIRTUAL_ENV: prefix, PATH };
  return { CONDA_PREFIX: prefix, CONDA_DEFAULT_ENV: condaName ?? prefix, PATH };
}

/** Finds the installers of this host (absolute paths), without running any of them. */
export async function findHostTools(env: NodeJS.ProcessEnv = process.env): Promise<HostTools> {
  const onPath = (name: string) => firstExecutable((env.PATH ?? '').split(delimiter).map((d) => join(d || '.', name)));
  const home = homedir();
  const condaHomes = ['miniforge3', 'mambaforge', 'miniconda3', 'anaconda3'].map((d) => join(home, d, 'bin'));
  const [uv, python3, mamba, micromamba, conda] = await Promise.all([
    onPath('uv'),
    onPath('python3'),
    firstExecutable([env.MAMBA_EXE && !env.MAMBA_EXE.endsWith('micromamba') ? env.MAMBA_EXE : '', ...pathOf('mamba')]),
    firstExecutable([env.MAMBA_EXE?.endsWith('micromamba') ? env.MAMBA_EXE : '', ...pathOf('micromamba')]),
    firstExecutable([env.CONDA_EXE ?? '', ...pathOf('conda'), ...condaHomes.map((d) => join(d, 'conda'))]),
  ]);
  const condaTool: CondaTool | undefined = mamba
    ? { exe: mamba, flavor: 'mamba' }
    : micromamba
      ? { exe: micromamba, flavor: 'micromamba' }
      : conda
        ? { exe: conda, flavor: 'conda' }
        : undefined;
  return { uv, python3, conda: condaTool };

  function pathOf(name: string): string[] {
    return (env.PATH ?? '').split(delimiter).map((d) => join(d || '.', name));
  }
}

async function firstExecutable(candidates: readonly string[]): Promise<string | undefined> {
  for (const c of candidates) {
    if (!c.startsWith('/')) continue;
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not there, or not executable: try the next
    }
  }
  return undefined;
}
