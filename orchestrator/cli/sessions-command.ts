/** `orrery sessions list|show|export|delete|compare`: experiment sessions on disk. */
import { compareSessions, formatComparison, SessionStore } from '../sessions/index.ts';

/** Help of `orrery sessions`. */
export const SESSIONS_USAGE = `usage: orrery sessions list [--json]               sessions, newest first
       orrery sessions show <name> [--json]        metadata, task counts per state and name, cost
       orrery sessions export <name> <file.tar.gz> one archive: database snapshot + result files
       orrery sessions delete <name>               remove a session (not one a live head records)
       orrery sessions compare <a> <b> [--json]    tasks, parameters, results and timings that differ

Sessions live in ~/.orrery/sessions (or $ORRERY_HOME/sessions); record one with init({ session })
or orrery start --session <name>.`;

/** Runs `sessions <sub> ...`. */
export async function sessionsCommand(
  args: readonly string[],
  json: boolean,
  print: (line: string) => void,
): Promise<void> {
  const [sub, a, b] = args;
  const store = new SessionStore();
  const need = (what: string, v: string | undefined): string => {
    if (!v) throw new Error(`sessions ${sub} needs ${what}; see orrery sessions --help`);
    return v;
  };
  switch (sub) {
    case 'list': {
      const list = store.list();
      if (json) return print(JSON.stringify(list));
      if (list.length === 0) return print(`no sessions in ${store.dir}`);
      print(
        table([
          ['name', 'status', 'created', 'tasks', 'finished', 'failed', 'size'],
          ...list.map((s) => [
            s.name,
            s.status,
            new Date(s.createdAt).toISOString().replace('T', ' ').slice(0, 19),
            String(s.totalTasks),
            String(s.taskCounts.FINISHED ?? 0),
            String(s.taskCounts.FAILED ?? 0),
            size(s.sizeBytes),
          ]),
        ]),
      );
      for (const s of list) if (s.error) print(`  ${s.name}: ${s.error}`);
      return;
    }
    case 'show': {
      const d = store.show(need('a session name', a));
      if (json) return print(JSON.stringify(d));
      print(`session ${d.name}: ${d.status}, recorded by Orrery ${d.orreryVersion} (pid ${d.pid} on ${d.hostname})`);
      print(
        `  created ${new Date(d.createdAt).toISOString()}${d.endedAt ? `, ended ${new Date(d.endedAt).toISOString()}` : ''}`,
      );
      print(`  file ${d.file} (${size(d.sizeBytes)})`);
      print(
        `  tasks ${d.summary.total}: ${
          Object.entries(d.summary.byState)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || 'none'
        }`,
      );
      for (const [name, states] of Object.entries(d.summary.byName))
        print(
          `    ${name}: ${Object.entries(states)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`,
        );
      if (d.summary.totalCostUsd > 0)
        print(`  estimated cost $${d.summary.totalCostUsd.toFixed(2)}, billable ${d.summary.totalBillableSeconds} s`);
      return;
    }
    case 'export': {
      const r = await store.export(need('a session name', a), need('an output file', b));
      for (const s of r.skipped)
        print(`warning: result file ${JSON.stringify(s.file)} of session ${a} was skipped: ${s.reason}`);
      return print(`exported session ${a} to ${r.file} (${size(r.bytes)}, ${r.entries} entries)`);
    }
    case 'delete':
      store.delete(need('a session name', a));
      return print(`deleted session ${a}`);
    case 'compare': {
      const ra = store.open(need('two session names', a));
      try {
        const rb = store.open(need('two session names', b));
        try {
          const c = compareSessions(ra, rb);
          return print(json ? JSON.stringify(c) : formatComparison(c));
        } finally {
          rb.close();
        }
      } finally {
        ra.close();
      }
    }
    default:
      throw new Error(`unknown sessions command ${sub ?? '(none)'}; use list, show, export, delete or compare`);
  }
}

function size(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
