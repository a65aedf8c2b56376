/**
 * The body of a command task. It travels to the worker as source text like any task, so it
 * captures nothing: every module it needs is imported inside, every helper is nested.
 */
import type { CommandCall, CommandResult } from './command-types.ts';

/** Runs `call.argv` in a fresh working directory on the worker's node and collects `outputs`. */
export async function runCommand(call: CommandCall, outputs: readonly string[]): Promise<CommandResult> {
  const { spawn } = await import('node:child_process');
  const fs = await import('node:fs/promises');
  const { existsSync } = await import('node:fs');
  const path = await import('node:path');
  const os = await import('node:os');
  const orrery = await import('orrery');
  const signal = orrery.getRuntimeContext().signal;
  const started = performance.now();
  const TAIL = 4096;
  const KEEP = 16 * 1024 * 1024;

  const inside = (dir: string, rel: string): string => {
    const full = path.resolve(dir, rel);
    if (path.isAbsolute(rel) || !full.startsWith(dir + path.sep)) {
      throw new TypeError(`command input/output path ${JSON.stringify(rel)} must be relative and stay inside the working directory`);
    }
    return full;
  };
  const globToRegExp = (glob: string): RegExp =>
    new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\u0000/g, '(?:.*/)?')}$`);
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
    throw new TypeError('command call: argv must be a non-empty array of strings, e.g. { argv: ["python3", "train.py"] }');
  }
  const workDir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'orrery-cmd-')));
  try {
    for (const [rel, value] of Object.entries(call.inputs ?? {})) {
      const v = orrery.ObjectRef && typeof value === 'object' && value !== null && 'id' in value && !(value instanceof Uint8Array)
        ? await orrery.get(value as never)
        : value;
      if (typeof v !== 'string' && !(v instanceof Uint8Array)) throw new TypeError(`command input ${rel} must be a string, a Uint8Array or a ref to one`);
      const file = inside(workDir, rel);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, v);
    }
    // setpriv --pdeathsig makes the command die with its worker even when the worker is SIGKILLed.
    const argv = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', ...call.argv] : call.argv;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: workDir,
      env: { ...process.env, ...call.env },
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
    const onAbort = () => {
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
    if (signal?.aborted) throw signal.reason;
    if (exitCode !== 0) throw new orrery.CommandFailedError(exitCode, stderr.slice(-TAIL), call.argv);
    const files: Record<string, Uint8Array> = {};
    if (outputs.length > 0) {
      const patterns = outputs.map(globToRegExp);
      for (const rel of await walk(workDir)) {
        if (patterns.some((p) => p.test(rel))) files[rel] = new Uint8Array(await fs.readFile(path.join(workDir, rel)));
      }
    }
    return { exitCode, stdout, stderr, files, durationMs: performance.now() - started };
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}
