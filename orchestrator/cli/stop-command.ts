/**
 * `orrery stop`: asks the running head service to shut down, waits until its process is gone,
 * and reports how it ended from the record it left (head-exit.ts): a clean stop, a stop that
 * failed (a backend that threw or hung, an uncaught error), or no record at all (it died).
 */
import { apiJson } from '../client/api-client.ts';
import { pidAlive, readHeadFile } from '../client/head-file.ts';
import { headExitPath, headLogPath, readHeadExit } from '../service/head-exit.ts';
import { targetOf } from './list-command.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery stop`. */
export const STOP_USAGE = `usage: orrery stop [--address ws://HOST:PORT]

Stops the head service recorded in ~/.orrery/head.json (or the one at --address): drivers are
disconnected, tasks stop, nodes shut down, head.json is removed. A head started with
orrery start --on <host> is stopped on its host, and its tunnel here ends. Exits non-zero, with the
reason and where the head's log is, when the head did not stop cleanly or died while stopping.`;

const STOP_WAIT_MS = 60_000;

/** What POST /api/shutdown answers. */
interface ShutdownReply {
  readonly pid: number;
  /** Where the head records how it ended, and its log (absent from heads before this field existed). */
  readonly exitFile?: string;
  readonly log?: string;
}

/** Stops the head; resolves once its process exited (0), or throws with how it did not stop cleanly. */
export async function stopCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  if (args.length > 0) throw new Error(`orrery stop takes no arguments (got ${args[0]}); see orrery stop --help`);
  const target = targetOf(opts);
  const tunnel = readHeadFile();
  if (tunnel?.remote && tunnel.pid === target.pid) return stopRemote(target, tunnel.pid, tunnel.remote.where, print);
  const { pid, exitFile, log } = await apiJson<ShutdownReply>(target, 'POST', '/api/shutdown');
  const end = Date.now() + STOP_WAIT_MS;
  while (pidAlive(pid)) {
    if (Date.now() > end)
      throw new Error(
        `the head (pid ${pid}) is still running ${STOP_WAIT_MS / 1000} s after it was asked to stop; kill it with: kill ${pid}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  const exit = readHeadExit(pid, exitFile ?? headExitPath());
  const logPath = exit?.log ?? log ?? headLogPath();
  if (!exit)
    throw new Error(
      `the head (pid ${pid}) died without recording how it stopped (it crashed or was killed); its log: ${logPath}`,
    );
  if (!exit.ok)
    throw new Error(
      `the head (pid ${pid}) crashed while stopping: ${exit.reason ?? 'no reason recorded'}; its log: ${logPath}`,
    );
  print(`stopped the head (pid ${pid}) at ${target.url}`);
  return 0;
}

/**
 * A head on another machine (`orrery start --on`): asked to stop through the tunnel, which
 * notices that it is gone, copies its exit record here and ends; the record says how it ended.
 */
async function stopRemote(
  target: ReturnType<typeof targetOf>,
  tunnelPid: number,
  where: string,
  print: (line: string) => void,
): Promise<number> {
  const { pid } = await apiJson<ShutdownReply>(target, 'POST', '/api/shutdown');
  const end = Date.now() + STOP_WAIT_MS;
  while (pidAlive(tunnelPid)) {
    if (Date.now() > end)
      throw new Error(
        `the head (pid ${pid}) on ${where} was asked to stop, but its tunnel (pid ${tunnelPid}) still runs ${STOP_WAIT_MS / 1000} s later; check the head there (ssh ${where}, ~/.orrery/remote-head.log)`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  const exit = readHeadExit(pid);
  if (!exit)
    throw new Error(
      `the head (pid ${pid}) on ${where} ended without recording how it stopped (it crashed or was killed); its log: ${where}:~/.orrery/remote-head.log`,
    );
  if (!exit.ok)
    throw new Error(
      `the head (pid ${pid}) on ${where} crashed while stopping: ${exit.reason ?? 'no reason recorded'}; its log: ${exit.log}`,
    );
  print(`stopped the head (pid ${pid}) on ${where}`);
  return 0;
}
