/**
 * Batches and sessions of the IBM emulator (execution modes), as the Qiskit Runtime docs describe
 * them (https://quantum.cloud.ibm.com/docs/guides/execution-modes-rest-api,
 * https://quantum.cloud.ibm.com/docs/api/runtime/tags/sessions, .../guides/run-jobs-session):
 * - `POST /v1/sessions` `{ mode: 'batch' | 'dedicated', backend, max_ttl? }` opens one, state `open`;
 * - it becomes `active` when its first job starts; `max_ttl` counts from then; when it runs out
 *   the session is `closed` (running jobs finish, queued ones fail) and takes no new job;
 * - in `dedicated` mode, no job for `interactive_ttl` seconds after one ends makes it `inactive`
 *   (it still takes jobs, and turns `active` when the next starts);
 * - `PATCH /v1/sessions/{id}` `{ accepting_jobs: false }` closes it to new jobs (queued ones still
 *   run); `DELETE /v1/sessions/{id}/close` closes it now.
 * Times are in seconds on the wire; tests shorten them with fractions.
 */
import { randomBytes } from 'node:crypto';

/** One batch or session as the emulator holds it. */
export interface EmulatedSession {
  readonly id: string;
  readonly backend: string;
  readonly mode: 'batch' | 'dedicated';
  readonly maxTtlS: number;
  readonly interactiveTtlS: number;
  readonly createdAt: number;
  activatedAt?: number;
  lastJobEndedAt?: number;
  acceptingJobs: boolean;
  closedAt?: number;
  stateReason?: string;
  /** Jobs of this session not yet final (kept by the emulator's job handling). */
  pending: number;
}

/** Lifetimes of sessions: plan caps and the interactive TTL. */
export interface SessionLimits {
  /** Upper bound and default of `max_ttl` (the docs: 8 h on most plans). */
  readonly maxTtlS: number;
  /** Interactive TTL of dedicated sessions (not configurable on the service). */
  readonly interactiveTtlS: number;
}

type Reply = [number, unknown];
type ErrorsFn = (code: string, message: string) => unknown;

/** The emulator's sessions and their routes. */
export class EmulatedSessions {
  readonly all = new Map<string, EmulatedSession>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly hasBackend: (name: string) => boolean,
    private readonly errors: ErrorsFn,
  ) {}

  /** The routes under /v1/sessions, or undefined when `parts` names none. */
  route(method: string, parts: readonly string[], body: unknown): Reply | undefined {
    if (parts[0] !== 'sessions') return undefined;
    if (method === 'POST' && parts.length === 1) return this.create(body);
    const s = parts[1] === undefined ? undefined : this.all.get(parts[1]);
    if (parts.length >= 2 && !s) return [404, this.errors('not_found', `Session ${parts[1]} not found`)];
    if (!s) return undefined;
    if (method === 'GET' && parts.length === 2) return [200, this.view(s)];
    if (method === 'PATCH' && parts.length === 2) {
      const b = body as { accepting_jobs?: unknown } | undefined;
      if (typeof b?.accepting_jobs !== 'boolean' || Object.keys(b).length !== 1)
        return [400, this.errors('invalid_request', 'body must be { "accepting_jobs": boolean }')];
      if (this.state(s) !== 'closed') s.acceptingJobs = b.accepting_jobs;
      return [204, undefined];
    }
    if (method === 'DELETE' && parts[2] === 'close') {
      this.close(s, 'closed by user');
      return [204, undefined];
    }
    return undefined;
  }

  /** Why a job naming `id` is refused (status and body), or undefined when the session takes it. */
  refuse(id: string, backend: string): Reply | undefined {
    const s = this.all.get(id);
    if (!s) return [404, this.errors('not_found', `Session ${id} not found`)];
    if (s.backend !== backend)
      return [
        400,
        this.errors('invalid_session', `Session ${id} runs on ${s.backend}; a job for ${backend} cannot join it`),
      ];
    const state = this.state(s);
    if (state === 'closed' || !s.acceptingJobs)
      return [
        400,
        this.errors(
          'session_closed',
          `Session ${id} is closed and does not accept new jobs (${s.stateReason ?? 'accepting_jobs is false'})`,
        ),
      ];
    return undefined;
  }

  /** A job of session `id` started running. */
  jobStarted(id: string, now = Date.now()): void {
    const s = this.all.get(id);
    if (s && s.activatedAt === undefined) s.activatedAt = now;
    if (s) s.lastJobEndedAt = undefined;
  }

  /** A job of session `id` reached a final state. */
  jobEnded(id: string, now = Date.now()): void {
    const s = this.all.get(id);
    if (!s) return;
    s.pending = Math.max(0, s.pending - 1);
    s.lastJobEndedAt = now;
  }

  /** Whether a queued job of session `id` may start (false: the session expired, the job fails). */
  mayStart(id: string): boolean {
    const s = this.all.get(id);
    return s !== undefined && this.state(s) !== 'closed';
  }

  /** The session's state now (expiry is worked out when asked). */
  state(s: EmulatedSession, now = Date.now()): 'open' | 'active' | 'inactive' | 'closed' {
    if (s.closedAt !== undefined) return 'closed';
    if (s.activatedAt !== undefined && now - s.activatedAt >= s.maxTtlS * 1000) {
      this.close(s, 'max_ttl reached', s.activatedAt + s.maxTtlS * 1000);
      return 'closed';
    }
    if (!s.acceptingJobs && s.pending === 0) {
      this.close(s, 'closed by user', now);
      return 'closed';
    }
    if (s.activatedAt === undefined) return 'open';
    if (
      s.mode === 'dedicated' &&
      s.pending === 0 &&
      s.lastJobEndedAt !== undefined &&
      now - s.lastJobEndedAt >= s.interactiveTtlS * 1000
    )
      return 'inactive';
    return 'active';
  }

  private create(body: unknown): Reply {
    const b = (body ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(b))
      if (!['mode', 'backend', 'max_ttl', 'instance'].includes(k))
        return [400, this.errors('invalid_request', `Unknown field ${k} in session request`)];
    if (b.mode !== 'batch' && b.mode !== 'dedicated')
      return [
        400,
        this.errors('invalid_request', `mode must be 'batch' or 'dedicated' (got ${JSON.stringify(b.mode)})`),
      ];
    if (typeof b.backend !== 'string' || !this.hasBackend(b.backend))
      return [404, this.errors('not_found', `Backend ${String(b.backend)} not found`)];
    if (b.max_ttl !== undefined && (typeof b.max_ttl !== 'number' || !(b.max_ttl > 0)))
      return [400, this.errors('invalid_request', 'max_ttl must be a number of seconds > 0')];
    const s: EmulatedSession = {
      id: randomBytes(10).toString('hex'),
      backend: b.backend,
      mode: b.mode,
      maxTtlS: Math.min(this.limits.maxTtlS, (b.max_ttl as number | undefined) ?? this.limits.maxTtlS),
      interactiveTtlS: this.limits.interactiveTtlS,
      createdAt: Date.now(),
      acceptingJobs: true,
      pending: 0,
    };
    this.all.set(s.id, s);
    return [200, this.view(s)];
  }

  private close(s: EmulatedSession, reason: string, at = Date.now()): void {
    if (s.closedAt !== undefined) return;
    s.closedAt = at;
    s.acceptingJobs = false;
    s.stateReason = reason;
  }

  private view(s: EmulatedSession): unknown {
    const state = this.state(s);
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return {
      id: s.id,
      backend_name: s.backend,
      mode: s.mode,
      state,
      ...(s.stateReason !== undefined && { state_reason: s.stateReason }),
      accepting_jobs: s.acceptingJobs && state !== 'closed',
      max_ttl: s.maxTtlS,
      ...(s.mode === 'dedicated' && { interactive_ttl: s.interactiveTtlS }),
      ...(s.activatedAt !== undefined &&
        state !== 'closed' && { active_ttl: Math.max(0, s.maxTtlS - (Date.now() - s.activatedAt) / 1000) }),
      started_at: iso(s.createdAt),
      activated_at: iso(s.activatedAt),
      closed_at: iso(s.closedAt),
    };
  }
}

/** Sampler V2 option fields the service takes (qiskit-ibm-runtime SamplerOptions and its sub-options). */
const SAMPLER_OPTIONS: Record<string, readonly string[] | null> = {
  default_shots: null,
  max_execution_time: null,
  experimental: null,
  environment: null,
  simulator: null,
  dynamical_decoupling: [
    'enable',
    'sequence_type',
    'extra_slack_distribution',
    'scheduling_method',
    'skip_reset_qubits',
  ],
  twirling: ['enable_gates', 'enable_measure', 'num_randomizations', 'shots_per_randomization', 'strategy'],
  execution: ['init_qubits', 'rep_delay', 'meas_type'],
};

/** The service's answer to Sampler options it does not take (pydantic's "extra inputs"), or undefined when they are all known. */
export function unknownSamplerOption(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return 'options: Input should be a valid dictionary';
  for (const [k, v] of Object.entries(options)) {
    if (!Object.hasOwn(SAMPLER_OPTIONS, k)) return `options.${k}: Extra inputs are not permitted`;
    const sub = SAMPLER_OPTIONS[k];
    if (sub && typeof v === 'object' && v !== null)
      for (const s of Object.keys(v)) if (!sub.includes(s)) return `options.${k}.${s}: Extra inputs are not permitted`;
  }
  const dd = (options as { dynamical_decoupling?: { sequence_type?: unknown } }).dynamical_decoupling;
  if (dd?.sequence_type !== undefined && !['XX', 'XpXm', 'XY4'].includes(dd.sequence_type as string))
    return `options.dynamical_decoupling.sequence_type: Input should be 'XX', 'XpXm' or 'XY4'`;
  return undefined;
}
