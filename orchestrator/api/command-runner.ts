/**
 * The body of a command task. It travels to the worker as source text like any task, so it
 * captures nothing: every module it needs is imported inside, every helper is nested.
 *
 * On the nodes of a job-style backend (SageMaker) the worker's environment names a runner module
 * in ORRERY_COMMAND_RUNNER; the call, with its inputs resolved, is handed to that module's
 * `runCommandJob(call, { outputs, image }, { signal, report, log, task })` instead of running here.
 *
 * With `runtimeEnv.container` (spec.container) the program runs in that image through the node's
 * container runtime; `orrery-compute/internal/command-container` (command-container.ts) finds the
 * runtime, makes the image present and builds the argv.
 */
import type { CommandCall, CommandResult, CommandSpec } from './command-types.ts';

/**
 * Runs `call.argv` in a fresh working directory (private to its user) on the worker's node and
 * collects `outputs`. With a shipped `runtimeEnv.workingDir` that directory starts as a copy of it.
 */
export async function runCommand(call: CommandCall, spec: CommandSpec | readonly string[]): Promise<CommandResult> {
  const { spawn } = await import('node:child_process');
  const fs = await import('node:fs/promises');
  const { existsSync } = await import('node:fs');
  const path = await import('node:path');
  const os = await import('node:os');
  const orrery = await import('orrery-compute');
  const context = orrery.getRuntimeContext();
  const signal = context.signal;
  // A plain list is the spec of heads that predate `image` (a resumed session).
  const { outputs, image, container, containerEnvNames } = Array.isArray(spec)
    ? { outputs: spec as readonly string[], image: undefined, container: undefined, containerEnvNames: undefined }
    : (spec as CommandSpec);
  const started = performance.now();
  const TAIL = 4096;
  const KEEP = 16 * 1024 * 1024;

  const inside = (dir: string, rel: string): string => {
    const full = path.resolve(dir, rel);
    if (path.isAbsolute(rel) || !full.startsWith(dir + path.sep)) {
      throw new TypeError(
        `command input/output path ${JSON.stringify(rel)} must be relative and stay inside the working directory`,
      );
    }
    return full;
  };
  const globToRegExp = (glob: string): RegExp =>
    new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\/?/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replaceAll('\u0000', '(?:.*/)?')}$`,
    );
  const walk = async (dir: string, base = ''): Promise<string[]> => {
    const out: string[] = [];
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const rel = base ? `${base}/${e.name}` : e.name;
      if (e.isDirectory()) out.push(...(await walk(path.join(dir, e.name), rel)));
      else if (e.isFile()) out.push(rel);
    }
    return out;
  };

  if (!Array.isArray(call?.argv) || call.argv.length === 0 || call.argv.some((a) => typeof a !== 'string')) {
    throw new TypeError(
      'command call: argv must be a non-empty array of strings, e.g. { argv: ["python3", "train.py"] }',
    );
  }
  // File names are the caller's: no prototype, so `__proto__` is a file like any other.
  const inputs: Record<string, string | Uint8Array> = Object.create(null);
  for (const [rel, value] of Object.entries(call.inputs ?? {})) {
    const v =
      orrery.ObjectRef && typeof value === 'object' && value !== null && 'id' in value && !(value instanceof Uint8Array)
        ? await orrery.get(value as never)
        : value;
    if (typeof v !== 'string' && !(v instanceof Uint8Array))
      throw new TypeError(`command input ${rel} must be a string, a Uint8Array or a ref to one`);
    inputs[rel] = v;
  }
  // The worker put each secret's value where its secret() reference was.
  const env = Object.fromEntries(
    Object.entries(call.env ?? {}).map(([k, v]) => {
      if (typeof v !== 'string')
        throw new TypeError(`command env ${k} must be a string or secret('name') (got ${typeof v})`);
      return [k, v];
    }),
  );
  const runnerUrl = process.env.ORRERY_COMMAND_RUNNER;
  if (runnerUrl) {
    // Through Function: compilers rewrite a computed `import(x)` written here into a call of an
    // injected helper, which the worker that evaluates this shipped source would not have.
    const load = new Function('u', 'return import(u)') as (u: string) => Promise<{ runCommandJob?: unknown }>;
    const runner = (await load(runnerUrl)).runCommandJob;
    if (typeof runner !== 'function')
      throw new Error(
        `the command runner module ${runnerUrl} (ORRERY_COMMAND_RUNNER of backend ${context.backend}) exports no runCommandJob function`,
      );
    const program = call.argv[0]!;
    return (await runner(
      { argv: call.argv, inputs, env },
      { outputs, image },
      {
        signal: signal ?? new AbortController().signal,
        report: (info: Record<string, string | number | boolean>) => orrery.recordTaskInfo(info),
        log: (line: string) => console.log(line),
        task: { id: context.taskId, name: program.slice(program.lastIndexOf('/') + 1) || program },
        resumeJobId: Array.isArray(spec) ? undefined : (spec as CommandSpec).resumeJobId,
        reserve: async (usd: number, what: string) => void (await orrery.reserveBudget(usd, what)),
      },
    )) as CommandResult;
  }
  if (image && !container)
    console.log(
      `orrery: command ${call.argv[0]}: image ${image} is ignored on backend ${context.backend}, which runs commands on its node directly`,
    );
  // In the agent's private folder (core/runtime-dir.ts), so inputs and outputs stay out of other users' reach.
  const root = process.env.ORRERY_RUNTIME_DIR;
  if (!root)
    throw new Error(
      `command ${call.argv[0]}: this worker has no ORRERY_RUNTIME_DIR (its agent sets it); run command tasks through an Orrery node agent`,
    );
  const workDir = await fs.realpath(await fs.mkdtemp(path.join(root, 'cmd-')));
  let releaseContainer: (() => void) | undefined;
  try {
    // A shipped runtimeEnv.workingDir (the worker's cwd, named in ORRERY_WORKING_DIR): the command
    // runs in a private copy, so what it writes stays its own and the node's cache stays clean.
    const shipped = process.env.ORRERY_WORKING_DIR;
    if (shipped) await fs.cp(shipped, workDir, { recursive: true, mode: fs.constants.COPYFILE_FICLONE });
    for (const [rel, v] of Object.entries(inputs)) {
      const file = inside(workDir, rel);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, v);
    }
    let program = call.argv;
    let stopContainer: (() => Promise<void>) | undefined;
    if (container) {
      const { containerCommand } = await import('orrery-compute/internal/command-container');
      const visible = process.env.CUDA_VISIBLE_DEVICES;
      const c = await containerCommand(
        container,
        {
          workDir,
          envNames: [...new Set([...Object.keys(env), ...(containerEnvNames ?? [])])],
          gpuIds: (context.assignedResources.GPU ?? 0) > 0 && visible ? visible.split(',') : [],
          argv: call.argv,
        },
        { nodeId: context.nodeId, backend: context.backend, taskId: context.taskId },
      );
      orrery.recordTaskInfo({
        containerRuntime: c.runtime,
        containerImage: c.image.image,
        containerImageAction: c.image.action,
        containerSetupMs: Math.round(c.setupMs),
      });
      program = c.argv;
      stopContainer = c.stop;
      releaseContainer = c.release;
      if (signal?.aborted) throw signal.reason;
    }
    // setpriv --pdeathsig makes the command die with its worker even when the worker is SIGKILLed.
    const argv = existsSync('/usr/bin/setpriv')
      ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', ...program]
      : program;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: workDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      process.stdout.write(t);
      if (stdout.length < KEEP) stdout += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      process.stderr.write(t);
      stderr = (stderr + t).slice(-KEEP);
    });
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    };
    let stopping: Promise<void> | undefined;
    const onAbort = () => {
      // The container outlives its `run` client (conmon keeps it): remove it by name.
      stopping = stopContainer?.();
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 2000).unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const exitCode = await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        stderr += `${argv[0]}: ${err.message}\n`;
        resolve(127);
      });
      child.once('close', (code, sig) => resolve(code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1)));
    });
    signal?.removeEventListener('abort', onAbort);
    await stopping;
    if (signal?.aborted) throw signal.reason;
    if (exitCode !== 0) throw new orrery.CommandFailedError(exitCode, stderr.slice(-TAIL), call.argv);
    const files: Record<string, Uint8Array> = Object.create(null);
    if (outputs.length > 0) {
      const patterns = outputs.map(globToRegExp);
      for (const rel of await walk(workDir)) {
        if (patterns.some((p) => p.test(rel))) files[rel] = new Uint8Array(await fs.readFile(path.join(workDir, rel)));
      }
    }
    return { exitCode, stdout, stderr, files, durationMs: performance.now() - started };
  } finally {
    releaseContainer?.();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}
