/**
 * The head runs in its own process: `orrery start --port N` as a child of the app (or a head
 * that already runs, found through head.json). Its URL and token come from head.json.
 *
 * Every file is found from the package root (the folder whose package.json names
 * `orrery-compute`), so the same code works from the repository, from an installed package
 * (node_modules/orrery-compute/electron/dist/main.mjs) and from a packaged app: the head is the
 * package's built CLI (dist/orchestrator/cli/main.js). Only inside the repository, where the
 * build may be missing and tsx is installed, does it fall back to the TypeScript sources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageRootOf } from '../orchestrator/core/package-root.ts';

/** What head.json says. */
export interface HeadFileInfo {
  readonly url: string;
  readonly token: string;
  readonly pid: number;
}

/** The head did not come up. */
export class HeadStartError extends Error {
  override readonly name = 'HeadStartError';
}

/** The package root above `fileUrl` (package-root.ts), failing as a HeadStartError. */
export function packageRoot(fileUrl: string = import.meta.url): string {
  try {
    return packageRootOf(fileUrl);
  } catch (err) {
    throw new HeadStartError((err as Error).message);
  }
}

/** True when `tsx` resolves from the package root (the repository with its devDependencies). */
export function tsxResolves(root: string): boolean {
  try {
    createRequire(join(root, 'package.json')).resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

/**
 * The Node arguments that run the `orrery` CLI of the package at `root`: its built CLI; or, when
 * that is missing and tsx resolves (the repository before `npm run build`), the sources through tsx.
 */
export function orreryCommand(root: string, canUseTsx: (root: string) => boolean = tsxResolves): string[] {
  const built = join(root, 'dist', 'orchestrator', 'cli', 'main.js');
  if (existsSync(built)) return [built];
  const source = join(root, 'orchestrator', 'cli', 'main.ts');
  if (existsSync(source) && canUseTsx(root)) return ['--import', 'tsx', source];
  throw new HeadStartError(`the orrery CLI is not built (${built} is missing); run npm run build in ${root}`);
}

/** The program that runs the head and the environment it needs. */
export interface HeadRuntime {
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Which Node runs the head: `ORRERY_NODE` (set by `orrery app` to the Node that runs the CLI,
 * whose native modules match), else, inside Electron (a packaged app), Electron itself as Node
 * (`ELECTRON_RUN_AS_NODE=1`), else this process's Node.
 */
export function headRuntime(
  env: NodeJS.ProcessEnv = process.env,
  execPath: string = process.execPath,
  electronVersion: string | undefined = process.versions.electron,
): HeadRuntime {
  if (env.ORRERY_NODE) return { command: env.ORRERY_NODE, env: { ...env } };
  if (electronVersion) return { command: execPath, env: { ...env, ELECTRON_RUN_AS_NODE: '1' } };
  return { command: execPath, env: { ...env } };
}

/** Path of head.json (`$ORRERY_HOME` or ~/.orrery). */
export function headFile(): string {
  return join(process.env.ORRERY_HOME ?? join(homedir(), '.orrery'), 'head.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running head, if head.json names a live process. */
export function runningHead(): HeadFileInfo | undefined {
  if (!existsSync(headFile())) return undefined;
  try {
    const info = JSON.parse(readFileSync(headFile(), 'utf8')) as HeadFileInfo;
    return alive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** How to start a head. */
export interface StartHeadOptions {
  /** Port of a new head (0: a free one). */
  readonly port?: number;
  /** How long to wait for its head.json. */
  readonly timeoutMs?: number;
}

/** Starts `orrery start --port N` (working folder: this process's, so ./orrery.json applies) and waits for its head.json. */
export async function startHead(options: StartHeadOptions = {}): Promise<{ info: HeadFileInfo; child?: ChildProcess }> {
  const existing = runningHead();
  if (existing) return { info: existing };
  const timeoutMs = options.timeoutMs ?? 60_000;
  const runtime = headRuntime();
  const args = [...orreryCommand(packageRoot()), 'start', '--port', String(options.port ?? 0)];
  const child = spawn(runtime.command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: runtime.env });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError)
      throw new HeadStartError(
        `could not run ${runtime.command} (${spawnError.message}); set ORRERY_NODE to a Node 20+ binary`,
      );
    if (child.exitCode !== null)
      throw new HeadStartError(`orrery start exited with code ${child.exitCode}; run it in a terminal to see why`);
    const info = runningHead();
    if (info && info.pid === child.pid) return { info, child };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new HeadStartError(`orrery start wrote no ${headFile()} within ${timeoutMs / 1000} s`);
}
