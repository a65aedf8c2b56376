/** `orrery stop`: asks the running head service to shut down and waits until its process is gone. */
import { apiJson } from '../service/api-client.ts';
import { pidAlive } from '../service/head-file.ts';
import { targetOf } from './list-command.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery stop`. */
export const STOP_USAGE = `usage: orrery stop [--address ws://HOST:PORT]

Stops the head service recorded in ~/.orrery/head.json (or the one at --address): drivers are
disconnected, tasks stop, nodes shut down, head.json is removed.`;

const STOP_WAIT_MS = 60_000;

/** Stops the head; resolves once its process exited. */
export async function stopCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  if (args.length > 0) throw new Error(`orrery stop takes no arguments (got ${args[0]}); see orrery stop --help`);
  const target = targetOf(opts);
  const { pid } = await apiJson<{ pid: number }>(target, 'POST', '/api/shutdown');
  const end = Date.now() + STOP_WAIT_MS;
  while (pidAlive(pid)) {
    if (Date.now() > end) throw new Error(`the head (pid ${pid}) is still running ${STOP_WAIT_MS / 1000} s after it was asked to stop; kill it with: kill ${pid}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  print(`stopped the head (pid ${pid}) at ${target.url}`);
  return 0;
}
