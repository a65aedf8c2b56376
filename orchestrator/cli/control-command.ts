/** `orrery cancel <taskId> [--force]` and `orrery kill <actor> [--namespace NS]`: control of the running head's tasks and actors. */
import { apiJson } from '../client/api-client.ts';
import type { CliOptions } from './command-line.ts';
import { targetOf } from './list-command.ts';

/** Help of `orrery cancel`. */
export const CANCEL_USAGE = `usage: orrery cancel <taskId> [--force] [--address ws://HOST:PORT]

Cancels a task of the running head (and the tasks it submitted): a pending task never runs, a
running one is told to stop (its worker is killed after a grace period); --force kills its worker
at once. Its result fails with TaskCancelledError. Ids: orrery list tasks.`;

/** Help of `orrery kill`. */
export const KILL_USAGE = `usage: orrery kill <actorId | name> [--namespace NS] [--address ws://HOST:PORT]

Kills an actor of the running head, by id or by name (--namespace: the named actor's namespace
when the name is used in several), without restarting it. Its pending and later calls fail with
ActorDiedError. Ids and names: orrery list actors.`;

/** Runs `cancel <taskId>`. */
export async function cancelCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [taskId, extra] = args;
  if (!taskId) throw new Error('orrery cancel needs a task id: orrery cancel <taskId> (ids: orrery list tasks)');
  if (extra) throw new Error(`orrery cancel takes one task id (got also ${extra})`);
  const q = opts.force ? '?force=1' : '';
  const r = await apiJson<{ taskId: string; state?: string }>(
    targetOf(opts),
    'POST',
    `/api/tasks/${encodeURIComponent(taskId)}/cancel${q}`,
  );
  print(`cancelled task ${r.taskId}${opts.force ? ' (forced)' : ''}; its state is now ${r.state ?? 'unknown'}`);
  return 0;
}

/** Runs `kill <actor>`. */
export async function killCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [actor, extra] = args;
  if (!actor) throw new Error('orrery kill needs an actor id or name: orrery kill <actor> (see orrery list actors)');
  if (extra) throw new Error(`orrery kill takes one actor (got also ${extra})`);
  const q = typeof opts.namespace === 'string' ? `?${new URLSearchParams({ namespace: opts.namespace })}` : '';
  const r = await apiJson<{ actorId: string; name: string }>(
    targetOf(opts),
    'POST',
    `/api/actors/${encodeURIComponent(actor)}/kill${q}`,
  );
  print(`killed actor ${r.actorId}${r.name ? ` (${r.name})` : ''}`);
  return 0;
}
