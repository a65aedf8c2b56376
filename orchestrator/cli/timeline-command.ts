/** `orrery timeline <file>`: the running head's tasks as a Chrome trace (Perfetto / chrome://tracing), as `ray timeline` writes. */
import { writeFileSync } from 'node:fs';
import { apiJson } from '../client/api-client.ts';
import type { TaskRow } from '../protocol/state-rows.ts';
import type { CliOptions } from './command-line.ts';
import { targetOf } from './list-command.ts';

/** Help of `orrery timeline`. */
export const TIMELINE_USAGE = `usage: orrery timeline <file.json> [--address ws://HOST:PORT]

Writes the running head's started tasks as a Chrome trace file (open it in https://ui.perfetto.dev
or chrome://tracing): one complete event ("ph": "X") per task, times in microseconds; pid is the
node, tid the actor for actor tasks, else a lane of the node (tasks that ran at the same time
are on different lanes, as they were on different workers).`;

/** One Chrome trace event. */
export interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  readonly ph: 'X';
  readonly ts: number;
  readonly dur: number;
  readonly pid: string;
  readonly tid: string;
  readonly args: Record<string, unknown>;
}

/** Trace events of the tasks that started (a running task ends at `now`). */
export function traceEvents(rows: readonly TaskRow[], now: number): TraceEvent[] {
  const started = rows
    .filter((r) => r.startedAt !== null && r.nodeId !== '')
    .sort((a, b) => a.startedAt! - b.startedAt!);
  const lanes = new Map<string, number[]>(); // nodeId -> end time of each lane
  return started.map((r) => {
    const start = r.startedAt!;
    const end = Math.max(start, r.endedAt ?? now);
    let tid = r.actorId ? `actor ${r.actorId}` : '';
    if (!tid) {
      const ends = lanes.get(r.nodeId) ?? [];
      lanes.set(r.nodeId, ends);
      let lane = ends.findIndex((e) => e <= start);
      if (lane < 0) lane = ends.push(end) - 1;
      else ends[lane] = end;
      tid = `worker ${lane}`;
    }
    return {
      name: r.name,
      cat: r.type,
      ph: 'X',
      ts: Math.round(start * 1000),
      dur: Math.round((end - start) * 1000),
      pid: `node ${r.nodeId}`,
      tid,
      args: {
        taskId: r.taskId,
        state: r.state,
        attempt: r.attempt,
        jobId: r.jobId,
        ...(r.actorId ? { actorId: r.actorId } : {}),
        ...(r.errorType ? { errorType: r.errorType } : {}),
      },
    };
  });
}

/** Runs `timeline <file>`. */
export async function timelineCommand(
  args: string[],
  opts: CliOptions,
  print: (line: string) => void,
): Promise<number> {
  const [file, extra] = args;
  if (!file) throw new Error('orrery timeline needs a file to write: orrery timeline <file.json>');
  if (extra) throw new Error(`orrery timeline takes one file (got also ${extra})`);
  const rows = await apiJson<TaskRow[]>(targetOf(opts), 'GET', '/api/tasks');
  const events = traceEvents(rows, Date.now());
  writeFileSync(file, `${JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' })}\n`, { mode: 0o600 });
  print(`wrote ${events.length} task events to ${file} (open it in https://ui.perfetto.dev or chrome://tracing)`);
  return 0;
}
