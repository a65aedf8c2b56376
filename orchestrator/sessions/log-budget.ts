/**
 * Caps how much log output a session keeps per task (or per node), so one chatty task cannot
 * fill the disk. Output past the cap is dropped after a single note saying so.
 */
import type Database from 'better-sqlite3';

/** What to store of one log chunk: the part that fits, and the truncation note when the cap was reached. */
export interface KeptLog {
  readonly text: string;
  readonly note?: string;
}

/** Bytes used per task/node against a fixed cap. */
export class LogBudget {
  private readonly used = new Map<string, number>();

  constructor(readonly capBytes: number) {}

  /** Counts what a resumed session already holds. */
  load(db: Database.Database): void {
    const rows = db
      .prepare(`SELECT task_id AS t, node_id AS n, SUM(length(CAST(text AS BLOB))) AS b
      FROM logs WHERE stream != 'orrery' GROUP BY task_id, node_id`)
      .all() as { t: string | null; n: string | null; b: number }[];
    for (const r of rows) {
      const k = key(r.t ?? undefined, r.n ?? undefined);
      this.used.set(k, (this.used.get(k) ?? 0) + r.b);
    }
  }

  /** What to keep of `text`; undefined once the owner's budget is spent (the note was already given). */
  take(taskId: string | undefined, nodeId: string | undefined, text: string): KeptLog | undefined {
    const k = key(taskId, nodeId);
    const used = this.used.get(k) ?? 0;
    if (used >= this.capBytes) return undefined;
    const size = Buffer.byteLength(text);
    if (used + size <= this.capBytes) {
      this.used.set(k, used + size);
      return { text };
    }
    this.used.set(k, this.capBytes);
    const owner = taskId !== undefined ? `task ${taskId}` : `node ${nodeId ?? 'head'}`;
    return {
      // Cutting bytes may split a UTF-8 character; toString() replaces the fragment rather than failing.
      text: Buffer.from(text)
        .subarray(0, this.capBytes - used)
        .toString(),
      note: `[orrery] log output of ${owner} truncated at ${this.capBytes} bytes; later output was not recorded`,
    };
  }
}

function key(taskId: string | undefined, nodeId: string | undefined): string {
  return taskId !== undefined ? `t:${taskId}` : `n:${nodeId ?? ''}`;
}
