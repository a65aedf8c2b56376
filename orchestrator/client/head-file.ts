/**
 * `~/.orrery/head.json` (or `$ORRERY_HOME/head.json`): where the running head service listens
 * and its token, so `init({ address: 'auto' })` and the CLI find it. Only its owner may read it
 * (directory 0700, file 0600): the token in it is the key to the head.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrreryError } from '../core/errors.ts';
import { orreryHome } from '../core/runtime-dir.ts';

/** What a running head service records about itself. */
export interface HeadFile {
  /** WebSocket address for drivers, `ws://127.0.0.1:PORT`. */
  readonly address: string;
  /** HTTP base URL of the API and the dashboard, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly token: string;
  /** Process id of the service. */
  readonly pid: number;
  /** ISO time the service started. */
  readonly startedAt: string;
  /** The session the head records into. */
  readonly session?: string;
  /** Set by a head started with `orrery start --on`: the laptop's tunnel port it answers to as well. */
  readonly tunnelPort?: number;
  /**
   * Set on the laptop while `orrery start --on` holds a tunnel to a head on another machine:
   * `pid` is then the tunnel's process, `address` and `url` the tunnel's end here.
   */
  readonly remote?: RemoteHeadRecord;
}

/** The head behind a tunnel: where it runs and how the laptop logs in there (no secrets: a keychain name at most). */
export interface RemoteHeadRecord {
  /** The SSH host as given (`alice@login.hpc:22` or an ssh config alias). */
  readonly host: string;
  /** `user@host:port`, for messages. */
  readonly where: string;
  /** The head's process id on that host. */
  readonly pid: number;
  /** The head's session. */
  readonly session?: string;
  /** The SSH login settings the tunnel used (the config's `head` entry), so `orrery sessions pull` logs in the same way. */
  readonly login: Readonly<Record<string, unknown>>;
}

/** Raised when head.json exists but cannot be understood. */
export class HeadFileError extends OrreryError {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path} is not a valid head file (${why}); remove it if no head is running`);
  }
}

/** Path of head.json. */
export function headFilePath(): string {
  return join(orreryHome(), 'head.json');
}

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The head file as written, or undefined when there is none (alive or not). */
export function readHeadFile(): HeadFile | undefined {
  const path = headFilePath();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HeadFileError(path, (err as Error).message);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HeadFileError(path, (err as Error).message);
  }
  const h = v as Partial<HeadFile>;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof h.address !== 'string' ||
    typeof h.url !== 'string' ||
    typeof h.token !== 'string' ||
    !Number.isInteger(h.pid)
  ) {
    throw new HeadFileError(path, 'expected { address, url, token, pid, startedAt }');
  }
  return h as HeadFile;
}

/** The head service running now, or undefined (no file, or its process is gone: a stale file). */
export function runningHead(): HeadFile | undefined {
  const h = readHeadFile();
  return h && pidAlive(h.pid) ? h : undefined;
}

/** Writes head.json atomically with mode 0600 in a 0700 directory. */
export function writeHeadFile(h: HeadFile): void {
  const dir = orreryHome();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = headFilePath();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(h, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Removes head.json if it still belongs to process `pid` (a newer service's file is left alone). */
export function removeHeadFile(pid: number): void {
  const path = headFilePath();
  if (!existsSync(path)) return;
  try {
    if (readHeadFile()?.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(path, { force: true });
}
