/**
 * `orrery app` (and `npm start`): the desktop app where Electron is installed: Electron runs the
 * package's main bundle (electron/dist/main.mjs), which starts or finds the head and opens the
 * dashboard in a window. Where Electron is not installed, or its binary is missing, it says so in
 * one line and does what `orrery dashboard` does: the same dashboard in a browser.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EXAMPLES } from '../service/dashboard-examples.ts';
import type { CliOptions } from './command-line.ts';
import { dashboardCommand } from './dashboard-command.ts';
import { packageRootOf } from '../core/package-root.ts';
import { electronMainPath, findElectron, type ElectronLookup } from './electron-binary.ts';

/** Help of `orrery app`. */
export const APP_USAGE = `usage: orrery app [--example ${Object.keys(EXAMPLES).join('|')}] [--port N]

Opens the desktop app: a window on the dashboard of the running head, or of a head it starts
(orrery start --port N; default: a free port) and stops when the window closes. Electron is an
optional dependency, installed under Node 22.12+ with its binary downloaded by its install
script; where it is not installed or its binary is missing, orrery app says why and opens the
dashboard in a browser instead, as orrery dashboard does.

  --example NAME   run a bundled example as a driver of the head (${Object.keys(EXAMPLES).join(', ')})
  --port N         port of a new head service (0 picks a free one)`;

/** What `orrery app` does with the outside world (tests replace each part). */
export interface AppDeps {
  /** Looks up the Electron binary. */
  readonly electron: () => ElectronLookup;
  /** The Electron main bundle to run. */
  readonly mainPath: () => string;
  /** Runs `binary args` with `env` in the foreground; resolves with its exit code. */
  readonly runApp: (binary: string, args: string[], env: NodeJS.ProcessEnv) => Promise<number>;
  /** `orrery dashboard` with these options. */
  readonly dashboard: (opts: CliOptions, print: (line: string) => void) => Promise<number>;
}

/** Runs `binary` with the terminal attached, passing Ctrl-C and SIGTERM on. */
function runInForeground(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: 'inherit', env });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', (err) => reject(new Error(`could not run Electron (${binary}): ${err.message}`)));
    child.once('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    });
  });
}

const DEFAULT_DEPS: AppDeps = {
  electron: () => findElectron(),
  mainPath: () => electronMainPath(packageRootOf(import.meta.url)),
  runApp: runInForeground,
  dashboard: (opts, print) => dashboardCommand([], opts, print),
};

/** Runs `orrery app`; resolves with the exit code. */
export async function appCommand(
  args: string[],
  opts: CliOptions,
  print: (line: string) => void,
  deps: AppDeps = DEFAULT_DEPS,
): Promise<number> {
  if (args.length > 0) throw new Error(`orrery app takes no arguments (got ${args[0]}); see orrery app --help`);
  const example = typeof opts.example === 'string' ? opts.example : undefined;
  if (example !== undefined && !Object.hasOwn(EXAMPLES, example))
    throw new Error(`--example must be one of ${Object.keys(EXAMPLES).join(', ')} (got ${example})`);
  const port = typeof opts.port === 'string' ? opts.port : undefined;
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65535))
    throw new Error(`--port must be an integer from 0 to 65535 (got ${port})`);
  const dashboardOpts: CliOptions = Object.create(null);
  if (example !== undefined) dashboardOpts.example = example;
  if (port !== undefined) dashboardOpts.port = port;

  const electron = deps.electron();
  const main = deps.mainPath();
  if (!electron.found) {
    print(
      `orrery app: ${electron.reason}; for the desktop window ${electron.remedy}. Opening the dashboard in your browser instead.`,
    );
    return deps.dashboard(dashboardOpts, print);
  }
  if (!existsSync(main)) {
    print(
      `orrery app: the desktop app is not built (${main} is missing; run npm run build in the orrery-compute package). Opening the dashboard in your browser instead.`,
    );
    return deps.dashboard(dashboardOpts, print);
  }
  const appArgs = [main, ...(example ? ['--example', example] : []), ...(port ? ['--port', port] : [])];
  // The head runs on this Node (its native modules were built for it), not on Electron's.
  return deps.runApp(electron.path, appArgs, { ...process.env, ORRERY_NODE: process.execPath });
}
