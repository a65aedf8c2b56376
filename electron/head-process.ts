/**
 * The head runs in its own process: `orrery start --port 0` as a child of the app (or a head
 * that already runs, found through head.json). Its URL and token come from head.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

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

/** The command that starts a head: the built CLI when there is one, else the sources through tsx. */
function orreryCommand(): string[] {
  const built = join(REPO, 'dist', 'orchestrator', 'cli', 'main.js');
  if (existsSync(built)) return [built];
  return ['--import', 'tsx', join(REPO, 'orchestrator', 'cli', 'main.ts')];
}

/** Starts `orrery start --port 0` (Node from PATH, not Electron's) and waits for its head.json. */
export async function startHead(timeoutMs = 60_000): Promise<{ info: HeadFileInfo; child?: ChildProcess }> {
  const existing = runningHead();
  if (existing) return { info: existing };
  const child = spawn(process.env.ORRERY_NODE ?? 'node', [...orreryCommand(), 'start', '--port', '0'], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new HeadStartError(`orrery start exited with code ${child.exitCode}; run it in a terminal to see why`);
    const info = runningHead();
    if (info && info.pid === child.pid) return { info, child };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new HeadStartError(`orrery start wrote no ${headFile()} within ${timeoutMs / 1000} s`);
}
