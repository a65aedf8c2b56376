/**
 * The agent's Python environments (runtimeEnv.pip / .conda): one per content hash per host,
 * under `$ORRERY_HOME/envs/<hash>-<os>-<arch>` (`~/.orrery/envs`, 0700; the platform in the
 * name keeps nodes of different kinds that share one home apart). A build runs under a lock folder
 * (core/file-lock.ts) so agents and Slurm allocations sharing a home build it once; tasks that
 * need it meanwhile wait. It counts as built only once `<hash>.ok` exists, written after the
 * last step succeeded; a failed build is removed and fails every waiting task with a
 * RuntimeEnvSetupError carrying the installer's last output. The environment is built in its
 * final folder, not renamed into place: venvs and conda prefixes write their own path into
 * their scripts and are not relocatable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RuntimeEnvSetupError } from '../core/errors.ts';
import type { PythonEnvSpec } from '../core/python-env.ts';
import { ensurePrivateDir, orreryHome } from '../core/runtime-dir.ts';
import { acquireLock } from '../core/file-lock.ts';
import {
  activationEnv,
  type BuildStep,
  buildSteps,
  condaPrefixOf,
  findHostTools,
  type HostTools,
  requirementsText,
} from './python-env-commands.ts';

/** How much of an installer's output a RuntimeEnvSetupError carries. */
const TAIL_CHARS = 4000;
/** A failed build is not retried for this long (the tasks queued behind it fail at once). */
const FAILURE_MEMORY_MS = 60_000;

/** The folder name of environment `hash` on this kind of host. */
export function envFolderName(hash: string): string {
  return `${hash}-${process.platform}-${process.arch}`;
}

/** Where build output goes: the log of the task that started the build. */
export type EnvLog = (text: string) => void;

/** A built (or found) environment: what activates it. */
export interface ReadyEnv {
  readonly kind: PythonEnvSpec['kind'];
  readonly prefix: string;
  /** A named conda environment's name. */
  readonly condaName?: string;
}

/** The variables that activate `env` for a task whose PATH would be `basePath`. */
export function activationOf(env: ReadyEnv, basePath: string | undefined): Record<string, string> {
  return activationEnv(env.kind, env.prefix, basePath, env.condaName);
}

type Entry =
  | { readonly state: 'ready'; readonly env: ReadyEnv }
  | { readonly state: 'building'; readonly done: Promise<ReadyEnv> }
  | { readonly state: 'failed'; readonly error: Error; readonly at: number };

/** Builds, finds and remembers the environments of one agent. */
export class PythonEnvs {
  private readonly entries = new Map<string, Entry>();
  /** Installers running now (killed when the agent exits, so none writes on into a folder another agent rebuilds). */
  private readonly running = new Set<ChildProcess>();
  private tools: Promise<HostTools> | undefined;

  constructor(
    /** The envs folder; default `$ORRERY_HOME/envs`. */
    private readonly root = join(orreryHome(), 'envs'),
    private readonly host = hostname(),
  ) {}

  /** Kills the installers still running (the agent is exiting); their locks go stale with this process. */
  stop(): void {
    for (const child of this.running) child.kill('SIGKILL');
  }

  /** `spec`'s environment if it is ready in this agent (no waiting). */
  ready(spec: PythonEnvSpec): ReadyEnv | undefined {
    const e = this.entries.get(spec.hash);
    if (e?.state !== 'ready') return undefined;
    // Removed meanwhile (`orrery backends clean`, by hand): forget it, so the next ensure builds it again.
    if (e.env.kind !== 'conda-name' && !existsSync(`${e.env.prefix}.ok`)) {
      this.entries.delete(spec.hash);
      return undefined;
    }
    return e.env;
  }

  /** Builds or finds `spec`'s environment (once per hash, however many tasks ask). */
  ensure(spec: PythonEnvSpec, log: EnvLog): Promise<ReadyEnv> {
    // The hash names a folder: only the form core/python-env.ts makes may reach the file system.
    if (!/^[0-9a-f]{16}$/.test(spec.hash))
      return Promise.reject(
        new TypeError(`a Python environment spec came with an invalid hash ${JSON.stringify(spec.hash)}`),
      );
    const ready = this.ready(spec);
    if (ready) return Promise.resolve(ready);
    const e = this.entries.get(spec.hash);
    if (e?.state === 'building') return e.done;
    if (e?.state === 'failed' && Date.now() - e.at < FAILURE_MEMORY_MS) return Promise.reject(e.error);
    const done = this.prepare(spec, log).then(
      (env) => {
        this.entries.set(spec.hash, { state: 'ready', env });
        return env;
      },
      (err: Error) => {
        this.entries.set(spec.hash, { state: 'failed', error: err, at: Date.now() });
        throw err;
      },
    );
    this.entries.set(spec.hash, { state: 'building', done });
    return done;
  }

  private async prepare(spec: PythonEnvSpec, log: EnvLog): Promise<ReadyEnv> {
    this.tools ??= findHostTools();
    if (spec.kind === 'conda-name') {
      const step = this.steps(spec, '', {}, await this.tools)[0]!;
      const { output } = await this.runStep(spec, step, () => {});
      const prefix = condaPrefixOf(output, spec.name);
      if (!prefix)
        throw envSetupError(
          spec,
          this.host,
          `finding conda environment ${spec.name}`,
          `no environment of that name in \`${step.argv.join(' ')}\`; create it there first, or give runtimeEnv.conda: { environmentFile }`,
        );
      return { kind: spec.kind, prefix, condaName: spec.name };
    }
    const prefix = join(this.root, envFolderName(spec.hash));
    const ok = `${prefix}.ok`;
    if (existsSync(ok)) return { kind: spec.kind, prefix };
    ensurePrivateDir(this.root);
    const release = await acquireLock(`${prefix}.lock`, (owner) =>
      log(
        `orrery: waiting for ${owner ? `${owner.host} pid ${owner.pid}` : 'another process'} to build Python environment ${spec.hash}\n`,
      ),
    );
    try {
      if (existsSync(ok)) return { kind: spec.kind, prefix };
      await this.build(spec, prefix, log);
      return { kind: spec.kind, prefix };
    } finally {
      release();
    }
  }

  /** Builds `spec` into `prefix` (the caller holds the lock); on failure leaves nothing behind. */
  private async build(spec: PythonEnvSpec, prefix: string, log: EnvLog): Promise<void> {
    const scratch = `${prefix}.build`;
    rmSync(prefix, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { mode: 0o700 });
    const started = performance.now();
    try {
      const files = writeBuildFiles(spec, scratch);
      const tools = await this.tools!;
      const steps = this.steps(spec, prefix, files, tools);
      log(
        `orrery: building Python environment ${spec.hash} on ${this.host} (${steps.map((s) => s.label).join(', ')})\n`,
      );
      for (const step of steps) await this.runStep(spec, step, log);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const marker = `${prefix}.ok.${process.pid}`;
      writeFileSync(marker, `${JSON.stringify({ host: this.host, builtAt: new Date().toISOString(), seconds })}\n`, {
        mode: 0o600,
      });
      renameSync(marker, `${prefix}.ok`);
      appendFileSync(
        join(this.root, 'builds.log'),
        `${new Date().toISOString()} ${spec.hash} ${this.host} ${process.pid} ${seconds}s\n`,
        {
          mode: 0o600,
        },
      );
      log(`orrery: built Python environment ${spec.hash} in ${seconds} s\n`);
    } catch (err) {
      rmSync(prefix, { recursive: true, force: true });
      throw err;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  private steps(
    spec: PythonEnvSpec,
    prefix: string,
    files: Parameters<typeof buildSteps>[2],
    tools: HostTools,
  ): BuildStep[] {
    try {
      return buildSteps(spec, prefix, files, tools);
    } catch (err) {
      throw envSetupError(spec, this.host, 'finding an installer', (err as Error).message);
    }
  }

  /** Runs one step without blocking the agent; its output goes to `log`; a non-zero exit throws with the tail. */
  private runStep(spec: PythonEnvSpec, step: BuildStep, log: EnvLog): Promise<{ output: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(step.argv[0]!, step.argv.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PIP_NO_INPUT: '1' },
      });
      this.running.add(child);
      child.once('exit', () => this.running.delete(child));
      let output = '';
      let tail = '';
      const take = (t: string) => {
        if (output.length < 1_000_000) output += t;
        tail = (tail + t).slice(-TAIL_CHARS);
        log(t);
      };
      child.stdout.setEncoding('utf8').on('data', take);
      child.stderr.setEncoding('utf8').on('data', take);
      child.once('error', (err) =>
        reject(envSetupError(spec, this.host, step.label, `${step.argv[0]}: ${err.message}`)),
      );
      child.once('close', (code, signal) => {
        if (code === 0) return resolve({ output });
        const how = signal ? `killed by ${signal}` : `exit code ${code}`;
        reject(envSetupError(spec, this.host, `${step.label} (${how})`, tail.trim()));
      });
    });
  }
}

/** The error every task waiting for a failed build gets: which environment, where, what failed, the output's tail. */
function envSetupError(spec: PythonEnvSpec, host: string, step: string, outputTail: string): RuntimeEnvSetupError {
  const said = outputTail ? `:\n${outputTail.replace(/^/gm, '    ')}` : '';
  return new RuntimeEnvSetupError(
    host,
    spec.kind === 'pip' ? 'pip' : 'conda',
    `the Python environment ${spec.hash} could not be built on ${host}: ${step} failed${said}\nFix runtimeEnv.pip / runtimeEnv.conda (the next task retries the build once this failure is a minute old).`,
    outputTail,
  );
}

function writeBuildFiles(spec: PythonEnvSpec, scratch: string): { requirements?: string; environment?: string } {
  if (spec.kind === 'pip') {
    const text = requirementsText(spec);
    if (text === undefined) return {};
    const requirements = join(scratch, 'requirements.txt');
    writeFileSync(requirements, text, { mode: 0o600 });
    return { requirements };
  }
  if (spec.kind === 'conda-file') {
    const environment = join(scratch, 'environment.yml');
    writeFileSync(environment, spec.environment, { mode: 0o600 });
    return { environment };
  }
  return {};
}
