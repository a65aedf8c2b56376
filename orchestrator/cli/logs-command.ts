/** `orrery logs <taskId> [-f]`: what a task printed; -f streams new lines until the task ends. */
import { apiJson, apiRequest } from '../client/api-client.ts';
import { targetOf } from './list-command.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery logs`. */
export const LOGS_USAGE = `usage: orrery logs <taskId> [-f | --follow] [--address ws://HOST:PORT]

Prints the output (stdout and stderr, last 1000 lines) of a task of the running head.
-f keeps printing new lines until the task finishes or fails.`;

/** Runs `logs <taskId>`. */
export async function logsCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [taskId, extra] = args;
  if (!taskId) throw new Error('orrery logs needs a task id: orrery logs <taskId> (ids: orrery list tasks)');
  if (extra) throw new Error(`orrery logs takes one task id (got also ${extra})`);
  const target = targetOf(opts);
  const path = `/api/logs/${encodeURIComponent(taskId)}`;
  if (!opts.follow) {
    const { lines } = await apiJson<{ lines: string[] }>(target, 'GET', path);
    for (const l of lines) print(l);
    return 0;
  }
  const res = await apiRequest(target, 'GET', `${path}?follow=1`);
  res.setEncoding('utf8');
  for await (const chunk of res) process.stdout.write(chunk as string);
  return 0;
}
