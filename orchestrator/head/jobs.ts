/**
 * Drivers' jobs: each connected driver (or embedded `init()`) is one, with the namespace its
 * named actors live in, and the run it is for the dashboard's Runs view: its script, start and
 * end, status, the last lines it printed, and the metrics it logged (job-metrics.ts).
 */
import { newId } from '../core/ids.ts';
import type { JobUpdate, LoggedMetric } from '../protocol/messages.ts';
import type { JobRow, JobStatus, MetricPoint } from '../protocol/state-rows.ts';
import { JobMetrics } from './job-metrics.ts';

/** Output lines kept per job (the newest). */
const OUTPUT_LINES = 300;
/** Characters kept of one output line (a run's row is re-sent whole on each change: this bounds it to 150 KB). */
const LINE_CHARS = 500;
/** Jobs that ended kept for the Runs view (the oldest go first). */
const ENDED_JOBS_KEPT = 200;

/** Who hears about runs: the session recorder and the dashboard's feed (HeadEvents). */
export interface JobListener {
  /** A job started, changed (script, output, status) or ended. */
  job(row: JobRow): void;
  /** A job logged metric values. */
  metrics(points: readonly MetricPoint[]): void;
}

interface JobRecord {
  readonly jobId: string;
  readonly namespace: string;
  readonly startedAt: number;
  script?: string;
  pid?: number;
  endedAt?: number;
  /** The driver's link closed (the job is then kept among the ended ones). */
  closed?: boolean;
  status: JobStatus;
  exitCode?: number;
  error?: string;
  readonly output: string[];
  /** The unfinished last line of each stream. */
  readonly partial: Map<'stdout' | 'stderr', string>;
}

/** The jobs of a head. */
export class Jobs {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly ended: string[] = [];
  /** Jobs that are no driver's run (the head's own): not listed, not announced. */
  private readonly hidden = new Set<string>();
  readonly metrics = new JobMetrics();

  constructor(
    private readonly listener: JobListener = { job: () => {}, metrics: () => {} },
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a job; without a namespace its named actors are private to it. */
  start(namespace?: string, about: { script?: string; pid?: number; hidden?: boolean } = {}): string {
    const jobId = newId();
    const rec: JobRecord = {
      jobId,
      namespace: namespace ?? anonymous(jobId),
      startedAt: this.now(),
      script: about.script,
      pid: about.pid,
      status: 'running',
      output: [],
      partial: new Map(),
    };
    this.jobs.set(jobId, rec);
    // The head's own job (retries from the CLI) is no driver's run.
    if (!about.hidden) this.listener.job(rowOf(rec));
    else this.hidden.add(jobId);
    return jobId;
  }

  /** The namespace of a job (an unknown job's is its own private one). */
  namespaceOf(jobId: string): string {
    return this.jobs.get(jobId)?.namespace ?? anonymous(jobId);
  }

  /** Applies what a driver said about its run (`job-update`); members of the wrong type are ignored. */
  update(jobId: string, u: JobUpdate): void {
    const rec = this.jobs.get(jobId);
    if (!rec || typeof u !== 'object' || u === null) return;
    if (typeof u.script === 'string') rec.script = u.script.slice(0, 1000);
    if (Number.isInteger(u.pid)) rec.pid = u.pid;
    if (Array.isArray(u.output)) {
      for (const o of u.output)
        if (typeof o?.text === 'string') this.append(rec, o.stream === 'stderr' ? 'stderr' : 'stdout', o.text);
    }
    if (u.status === 'succeeded' || u.status === 'failed') {
      rec.status = u.status;
      rec.endedAt ??= this.now();
      if (Number.isInteger(u.exitCode)) rec.exitCode = u.exitCode;
      if (typeof u.error === 'string') rec.error = u.error.slice(0, 4000);
    }
    if (!this.hidden.has(jobId)) this.listener.job(rowOf(rec));
  }

  /** Records metric values a job (its driver or one of its tasks) logged; throws TypeError for a malformed point. */
  log(jobId: string, points: readonly LoggedMetric[]): void {
    if (!Array.isArray(points)) throw new TypeError('log-metrics: points must be an array');
    const out: MetricPoint[] = [];
    for (const p of points) {
      if (typeof p?.key !== 'string' || p.key === '' || p.key.length > 200)
        throw new TypeError('log-metrics: each point needs a key: a non-empty string of at most 200 characters');
      for (const f of ['value', 'step', 'ts'] as const)
        if (typeof p[f] !== 'number' || !Number.isFinite(p[f]))
          throw new TypeError(`log-metrics: ${f} of metric ${JSON.stringify(p.key)} must be a finite number`);
      out.push({ jobId, key: p.key, step: p.step, value: p.value, ts: p.ts });
    }
    this.metrics.add(out);
    if (out.length > 0 && !this.hidden.has(jobId)) this.listener.metrics(out);
  }

  /** The job's driver is gone: it ends (`disconnected` unless the driver said how it ended). */
  end(jobId: string): void {
    const rec = this.jobs.get(jobId);
    if (!rec || rec.closed) return;
    rec.closed = true;
    for (const stream of ['stdout', 'stderr'] as const) if (rec.partial.get(stream)) this.append(rec, stream, '\n');
    rec.endedAt ??= this.now();
    if (rec.status === 'running') rec.status = 'disconnected';
    if (!this.hidden.has(jobId)) this.listener.job(rowOf(rec));
    this.ended.push(jobId);
    while (this.ended.length > ENDED_JOBS_KEPT) {
      const old = this.ended.shift()!;
      this.jobs.delete(old);
      this.metrics.drop(old);
    }
  }

  /**
   * A driver process the head started (a dashboard example) exited: its job, found by pid,
   * succeeded or failed by the exit code, unless the driver said otherwise before.
   */
  exited(pid: number, exitCode: number | null, signal?: string | null): void {
    for (const rec of this.jobs.values()) {
      if (rec.pid !== pid || (rec.status !== 'running' && rec.status !== 'disconnected')) continue;
      rec.status = exitCode === 0 ? 'succeeded' : 'failed';
      if (exitCode !== null) rec.exitCode = exitCode;
      if (exitCode !== 0)
        rec.error ??= exitCode === null ? `killed by ${signal ?? 'a signal'}` : `exit code ${exitCode}`;
      rec.endedAt ??= this.now();
      this.listener.job(rowOf(rec));
    }
  }

  /** Every job the head knows (running, and the last ended ones), oldest first. */
  rows(): JobRow[] {
    const out: JobRow[] = [];
    for (const rec of this.jobs.values()) if (!this.hidden.has(rec.jobId)) out.push(rowOf(rec));
    return out;
  }

  private append(rec: JobRecord, stream: 'stdout' | 'stderr', text: string): void {
    const lines = ((rec.partial.get(stream) ?? '') + text).split('\n');
    rec.partial.set(stream, lines.pop() ?? '');
    for (const line of lines) rec.output.push((stream === 'stderr' ? '[err] ' : '') + line.slice(0, LINE_CHARS));
    if (rec.output.length > OUTPUT_LINES) rec.output.splice(0, rec.output.length - OUTPUT_LINES);
  }
}

function rowOf(rec: JobRecord): JobRow {
  return {
    jobId: rec.jobId,
    script: rec.script,
    pid: rec.pid,
    startedAt: rec.startedAt,
    endedAt: rec.endedAt,
    status: rec.status,
    exitCode: rec.exitCode,
    error: rec.error,
    output: [...rec.output],
  };
}

function anonymous(jobId: string): string {
  return `anonymous-${jobId}`;
}
