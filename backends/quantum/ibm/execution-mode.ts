/**
 * IBM execution modes (`mode: 'batch' | 'session'`): one batch or session per backend and
 * device, opened through the Runtime API (POST /v1/sessions, mode `batch` or `dedicated`,
 * `max_ttl`), named by every job's `session_id`, and closed (PATCH accepting_jobs=false) when
 * the backend shuts down or no job was in flight for `sessionIdleS`.
 *
 * Where it lives: circuit tasks run in separate worker processes, and the first to need the
 * session is a worker, so the workers open it, under a lock, in a private file the backend
 * names for them ({@link SessionFile}); the others join it. The head side (the backend's
 * {@link IbmSessionKeeper}) only closes it. Opening lazily in the worker means a backend that
 * runs no circuit opens nothing (a session may hold a dedicated device), and no round trip to
 * the head is added to each task. A head started by `orrery start` keeps the file in its run
 * folder, so a resumed head's workers find the session and keep using it while the service
 * says it accepts jobs; when it has expired or was closed they open a new one. Each task also
 * records the id (`ibmSession`) in its facts, so the Orrery session shows which it used.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { dataRoot, ensurePrivateDir, fileSafeName } from '../../../orchestrator/core/runtime-dir.ts';
import type { CircuitRun } from '../run-types.ts';
import { DEFAULT_SESSION_IDLE_S, type IbmQuantumConfig } from './config.ts';
import type { RuntimeClient } from './runtime-client.ts';
import type { EstimatorJobRequest } from './estimator-pubs.ts';
import type { JobCreateReply, SamplerJobRequest, SessionReply } from './runtime-wire.ts';
import { SessionFile, type SessionEntry } from './session-file.ts';

/** The environment variable naming the session file to the backend's workers. */
export const IBM_SESSION_ENV = 'ORRERY_IBM_SESSION_FILE';

/** A job submitted in the backend's mode: its id and, in batch/session mode, the session's. */
export interface SubmittedJob extends JobCreateReply {
  readonly sessionId?: string;
}

/**
 * Submits `body` in the backend's execution mode: in job mode as it is; otherwise in the
 * device's batch or session (joined, or opened when there is none or the service no longer
 * accepts jobs in it). A submission refused because the session closed or expired meanwhile
 * is retried once in a new one.
 */
export async function submitInMode(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  body: SamplerJobRequest | EstimatorJobRequest,
  run: Pick<CircuitRun, 'log' | 'report'>,
  sessionPath: string | undefined = process.env[IBM_SESSION_ENV],
): Promise<SubmittedJob> {
  const mode = config.mode ?? 'job';
  if (mode === 'job') return client.submit(body);
  if (!sessionPath)
    throw new BackendError(
      config.name,
      `mode ${mode} needs the session file its backend names (${IBM_SESSION_ENV}); this worker was not started by the ibm-quantum backend`,
      false,
    );
  const file = new SessionFile(sessionPath);
  for (let attempt = 0; ; attempt++) {
    const sessionId = await joinSession(config, client, file, body.backend, run);
    try {
      const job = await client.submit({ ...body, session_id: sessionId });
      return { ...job, sessionId };
    } catch (err) {
      await leaveSession(file, sessionId);
      const state = await client.session(sessionId).catch(() => undefined);
      if (attempt > 0 || accepting(state)) throw err;
      run.log(
        `IBM Quantum ${mode} ${sessionId} no longer accepts jobs (${state?.state ?? 'unknown'}${state?.state_reason ? `: ${state.state_reason}` : ''}); opening a new one`,
      );
      await file.locked((entries) => file.write(entries.filter((e) => e.id !== sessionId)));
    }
  }
}

/** Tells the session file that a job of session `sessionId` reached a final state (the idle clock restarts). */
export async function leaveSession(
  file: SessionFile | string | undefined = process.env[IBM_SESSION_ENV],
  sessionId?: string,
): Promise<void> {
  if (!file || !sessionId) return;
  const f = typeof file === 'string' ? new SessionFile(file) : file;
  await f.locked((entries) => {
    const e = entries.find((x) => x.id === sessionId);
    if (!e) return;
    e.inFlight = Math.max(0, e.inFlight - 1);
    e.lastUsedAt = Date.now();
    f.write(entries);
  });
}

async function joinSession(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  file: SessionFile,
  device: string,
  run: Pick<CircuitRun, 'log' | 'report'>,
): Promise<string> {
  const wire = config.mode === 'session' ? 'dedicated' : 'batch';
  const word = config.mode === 'session' ? 'session' : 'batch';
  return file.locked(async (entries) => {
    const known = entries.find((e) => e.device === device && e.mode === wire);
    let entry: SessionEntry | undefined;
    if (known) {
      const state = await client.session(known.id);
      if (accepting(state)) entry = known;
      else
        run.log(
          `IBM Quantum ${word} ${known.id} on ${device} is ${state?.state ?? 'gone'}${state?.state_reason ? ` (${state.state_reason})` : ''}; opening a new one`,
        );
    }
    if (!entry) {
      const opened = await client.createSession({
        mode: wire,
        backend: device,
        ...(config.sessionMaxTtlS !== undefined && { max_ttl: config.sessionMaxTtlS }),
      });
      entry = { id: opened.id, mode: wire, device, openedAt: Date.now(), lastUsedAt: Date.now(), inFlight: 0 };
      run.log(`IBM Quantum ${word} ${opened.id} opened on ${device}`);
    }
    entry.inFlight++;
    entry.lastUsedAt = Date.now();
    file.write([...entries.filter((e) => e !== known), entry]);
    run.report({ ibmSession: entry.id, executionMode: config.mode ?? 'job' });
    return entry.id;
  });
}

function accepting(s: SessionReply | undefined): boolean {
  return s !== undefined && s.state !== 'closed' && s.accepting_jobs !== false;
}

/**
 * The head side of a backend's batch or session: names the session file for the workers,
 * closes what stayed idle for `sessionIdleS`, and closes everything at shutdown. A head that
 * resumes a session (`orrery start --resume`) keeps the file of the head before it; a fresh
 * one closes what that head left.
 */
export class IbmSessionKeeper {
  private file: SessionFile | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ownFile = false;
  private sweeping: Promise<void> = Promise.resolve();
  private log: (line: string) => void = () => {};

  constructor(
    private readonly config: IbmQuantumConfig,
    private readonly client: () => Promise<RuntimeClient>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Picks the file (`durable`: the head service's run folder, stable across restarts) and starts the idle sweep; returns the workers' environment. */
  async start(
    durable: { readonly runDir: string; readonly reattach: boolean } | undefined,
    log: (line: string) => void = () => {},
  ): Promise<Record<string, string>> {
    this.log = log;
    if (durable) {
      this.file = new SessionFile(
        join(ensurePrivateDir(durable.runDir), `ibm-session-${fileSafeName(this.config.name, 64)}.json`),
      );
      if (!durable.reattach) await this.closeWhere(() => true, 'left by an earlier head');
    } else {
      const dir = ensurePrivateDir(join(dataRoot(), 'ibm-sessions'));
      this.file = new SessionFile(
        join(dir, `${fileSafeName(this.config.name, 64)}-${process.pid}-${randomBytes(6).toString('hex')}.json`),
      );
      this.ownFile = true;
    }
    const idleMs = (this.config.sessionIdleS ?? DEFAULT_SESSION_IDLE_S) * 1000;
    this.timer = setInterval(() => void this.sweepIdle(), Math.max(50, Math.min(5000, idleMs / 4)));
    this.timer.unref();
    return { [IBM_SESSION_ENV]: this.file.path };
  }

  /** Closes the sessions no job used for `sessionIdleS` (a job in flight keeps one open). */
  sweepIdle(): Promise<void> {
    const idleMs = (this.config.sessionIdleS ?? DEFAULT_SESSION_IDLE_S) * 1000;
    this.sweeping = this.sweeping.then(() =>
      this.closeWhere((e) => e.inFlight <= 0 && this.now() - e.lastUsedAt >= idleMs, 'idle'),
    );
    return this.sweeping;
  }

  /** Stops the sweep and closes every open batch or session (the backend is shutting down). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
    await this.closeWhere(() => true, 'the backend shut down');
    if (this.ownFile && this.file) this.file.write([]);
  }

  private async closeWhere(which: (e: SessionEntry) => boolean, why: string): Promise<void> {
    const file = this.file;
    if (!file) return;
    const closing = await file.locked((entries) => {
      const pick = entries.filter(which);
      if (pick.length > 0) file.write(entries.filter((e) => !pick.includes(e)));
      return pick;
    });
    if (closing.length === 0) return;
    let client: RuntimeClient;
    try {
      client = await this.client();
    } catch (err) {
      this.log(
        `backend ${this.config.name}: could not close IBM Quantum session(s) ${closing.map((e) => e.id).join(', ')}: ${(err as Error).message}; they close by themselves at their TTL`,
      );
      return;
    }
    for (const e of closing) {
      try {
        await client.closeSession(e.id);
        this.log(
          `backend ${this.config.name}: IBM Quantum ${e.mode === 'dedicated' ? 'session' : 'batch'} ${e.id} on ${e.device} closed (${why})`,
        );
      } catch (err) {
        this.log(
          `backend ${this.config.name}: could not close IBM Quantum session ${e.id}: ${(err as Error).message}; it closes by itself at its TTL`,
        );
      }
    }
  }
}
