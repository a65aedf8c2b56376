/**
 * `orrery cancel <taskId> [--force]` (or `--job <jobId>`), `orrery retry <taskId> [--wait]
 * [--rerun]` and `orrery kill <actor> [--namespace NS] [--restart]`: control of the running
 * head's tasks and actors.
 */
import { apiJson } from '../client/api-client.ts';
import type { CliOptions } from './command-line.ts';
import { targetOf } from './list-command.ts';

/** Help of `orrery cancel`. */
export const CANCEL_USAGE = `usage: orrery cancel <taskId> [--force] [--address ws://HOST:PORT]
       orrery cancel --job <jobId> [--force]

Cancels a task of the running head (and the tasks it submitted): a pending task never runs, a
running one is told to stop (its worker is killed after a grace period); --force kills its worker
at once. Its result fails with TaskCancelledError. Ids: orrery list tasks. --job: cancels every
unfinished task of one run (a driver's job; the jobId of orrery list tasks --json).`;

/** Help of `orrery retry`. */
export const RETRY_USAGE = `usage: orrery retry <taskId> [--wait] [--rerun] [--address ws://HOST:PORT]

Submits a failed or cancelled task of the running head again, as a new task with a new id, from
its recorded code, arguments and options; prints the new id (orrery list tasks shows it with
retryOf set to the old one). The head owns the new task: its driver need not be connected, and
its result is kept until the head stops. --wait: waits for it to end, prints its result (JSON)
and exits 0, or prints its error and exits 1. --rerun: a task that finished may be run again too.
Actor tasks cannot be retried alone.`;

/** Help of `orrery kill`. */
export const KILL_USAGE = `usage: orrery kill <actorId | name> [--namespace NS] [--restart] [--address ws://HOST:PORT]

Kills an actor of the running head, by id or by name (--namespace: the named actor's namespace
when the name is used in several), without restarting it. Its pending and later calls fail with
ActorDiedError. --restart: restarts it instead, if its maxRestarts allow. Ids and names: orrery
list actors.`;

/** Runs `cancel <taskId>`. */
export async function cancelCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [taskId, extra] = args;
  const q = opts.force ? '?force=1' : '';
  if (typeof opts.job === 'string') {
    if (taskId)
      throw new Error(`orrery cancel takes a task id or --job, not both (got ${taskId} and --job ${opts.job})`);
    const r = await apiJson<{ jobId: string; cancelled: string[]; ended: number }>(
      targetOf(opts),
      'POST',
      `/api/jobs/${encodeURIComponent(opts.job)}/cancel${q}`,
    );
    print(
      `cancelled ${r.cancelled.length} unfinished task(s) of job ${r.jobId}${opts.force ? ' (forced)' : ''}; ${r.ended} had already ended`,
    );
    return 0;
  }
  if (!taskId) throw new Error('orrery cancel needs a task id: orrery cancel <taskId> (ids: orrery list tasks)');
  if (extra) throw new Error(`orrery cancel takes one task id (got also ${extra})`);
  const r = await apiJson<{ taskId: string; state?: string }>(
    targetOf(opts),
    'POST',
    `/api/tasks/${encodeURIComponent(taskId)}/cancel${q}`,
  );
  print(`cancelled task ${r.taskId}${opts.force ? ' (forced)' : ''}; its state is now ${r.state ?? 'unknown'}`);
  return 0;
}

/** How often `retry --wait` asks whether the task ended. */
const WAIT_POLL_MS = 200;

/** Runs `retry <taskId> [--wait]`: 0 once submitted (with --wait: once it finished), 1 when it failed. */
export async function retryCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [taskId, extra] = args;
  if (!taskId) throw new Error('orrery retry needs a task id: orrery retry <taskId> (ids: orrery list tasks)');
  if (extra) throw new Error(`orrery retry takes one task id (got also ${extra})`);
  const target = targetOf(opts);
  const q = opts.rerun ? '?rerun=1' : '';
  const r = await apiJson<{ taskId: string }>(target, 'POST', `/api/tasks/${encodeURIComponent(taskId)}/retry${q}`);
  print(r.taskId);
  if (!opts.wait) return 0;
  for (;;) {
    const d = await apiJson<RetriedTask>(target, 'GET', `/api/tasks/${encodeURIComponent(r.taskId)}`);
    if (d.task.state === 'FAILED') {
      const e = d.error;
      print(`task ${r.taskId} failed: ${e ? `${e.name}: ${e.message.split('\n')[0]}` : 'no error was recorded'}`);
      return 1;
    }
    if (d.task.state === 'FINISHED') {
      const v = d.result;
      print(
        !v
          ? '(finished; the head does not hold its result)'
          : v.json !== undefined
            ? JSON.stringify(v.json)
            : `(not JSON) ${v.preview.replace(/\s+/g, ' ').slice(0, 200)}`,
      );
      return 0;
    }
    await new Promise((res) => setTimeout(res, WAIT_POLL_MS));
  }
}

/** What `retry --wait` reads of GET /api/tasks/:id (dashboard-tasks.ts TaskDetail). */
interface RetriedTask {
  readonly task: { readonly state: string };
  readonly result?: { readonly preview: string; readonly json?: unknown };
  readonly error?: { readonly name: string; readonly message: string };
}

/** Runs `kill <actor>`. */
export async function killCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [actor, extra] = args;
  if (!actor) throw new Error('orrery kill needs an actor id or name: orrery kill <actor> (see orrery list actors)');
  if (extra) throw new Error(`orrery kill takes one actor (got also ${extra})`);
  const params = new URLSearchParams();
  if (typeof opts.namespace === 'string') params.set('namespace', opts.namespace);
  if (opts.restart) params.set('restart', '1');
  const q = params.toString() ? `?${params}` : '';
  const r = await apiJson<{ actorId: string; name: string }>(
    targetOf(opts),
    'POST',
    `/api/actors/${encodeURIComponent(actor)}/kill${q}`,
  );
  print(
    `killed actor ${r.actorId}${r.name ? ` (${r.name})` : ''}${opts.restart ? '; it restarts if its maxRestarts allow' : ''}`,
  );
  return 0;
}
