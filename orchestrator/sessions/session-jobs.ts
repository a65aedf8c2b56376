/** Reads the drivers' runs (jobs) of a session and the metrics they logged (schema version 3). */
import type Database from 'better-sqlite3';
import type { JobRow, JobStatus, JobsReply, MetricPoint } from '../protocol/state-rows.ts';

/** Metric points read per session at most (the oldest first); a run logs far fewer. */
const MAX_POINTS = 500_000;

interface JobDbRow {
  jobId: string;
  script: string | null;
  pid: number | null;
  startedAt: number;
  endedAt: number | null;
  status: string;
  exitCode: number | null;
  error: string | null;
  output: string | null;
}

/**
 * The jobs of a session, oldest first, with their metric points. A job still `running` in a
 * session whose head is gone reads as it was recorded; the caller knows whether the session is live.
 */
export function readJobs(db: Database.Database, schemaVersion: number): JobsReply {
  if (schemaVersion < 3) return { jobs: [], metrics: [] };
  const rows = db
    .prepare(`SELECT job_id AS jobId, script, pid, started_at AS startedAt, ended_at AS endedAt, status,
      exit_code AS exitCode, error, output FROM jobs ORDER BY started_at, job_id`)
    .all() as JobDbRow[];
  const jobs: JobRow[] = rows.map((r) => ({
    jobId: r.jobId,
    script: r.script ?? undefined,
    pid: r.pid ?? undefined,
    startedAt: r.startedAt,
    endedAt: r.endedAt ?? undefined,
    status: r.status as JobStatus,
    exitCode: r.exitCode ?? undefined,
    error: r.error ?? undefined,
    output: r.output ? r.output.split('\n') : [],
  }));
  const metrics = db
    .prepare(`SELECT job_id AS jobId, key, step, value, ts FROM metrics ORDER BY id LIMIT ${MAX_POINTS}`)
    .all() as MetricPoint[];
  return { jobs, metrics };
}
