/**
 * An IBM Quantum emulator speaking the documented wire protocol, for tests: IBM Cloud IAM
 * (`POST /identity/token`) and the Qiskit Runtime REST API (`/api/v1/backends...`,
 * `/api/v1/jobs...`) on one loopback port. Tokens expire; runtime calls need a valid token and
 * the instance's Service-CRN; jobs go Queued → Running → Completed after configurable delays,
 * fail like the real service when the circuit is not native to the device, and are run by
 * parsing their OpenQASM 3 and sampling with Orrery's simulator. Requests are recorded for
 * assertions, with the API key and tokens left out.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Circuit } from '../../../backends/quantum/circuit.ts';
import { configurationOf, defaultFakeDevices, type FakeDevice } from './fake-devices.ts';
import { isaViolation } from './isa-check.ts';
import { defaultUsage, jobView, metricsView, type EmulatedJob } from './job-replies.ts';
import { pubCircuits, pubExecutions, readSamplerPub, samplerPubResult, type SamplerPub } from './sampler-pubs.ts';

export type { EmulatedJob } from './job-replies.ts';
import { checkEstimatorRequest, estimatorExecutions, estimatorResults, EstimatorJobFailure } from './estimator-job.ts';
import { EmulatedSessions, unknownSamplerOption, type EmulatedSession } from './emulated-sessions.ts';

/** How the emulator behaves. */
export interface IbmEmulatorOptions {
  /** The one API key IAM accepts (default: random). */
  readonly apiKey?: string;
  /** The instance CRN runtime calls must name (default: a fixed fake CRN). */
  readonly instanceCrn?: string;
  /** Lifetime of issued tokens in seconds (default 3600). */
  readonly tokenLifetimeS?: number;
  /** Time a job stays Queued (default 50 ms). */
  readonly queueDelayMs?: number;
  /** Time a job stays Running (default 20 ms). */
  readonly runDelayMs?: number;
  /** Devices (default: {@link defaultFakeDevices}). */
  readonly devices?: FakeDevice[];
  /** Sampling seed for every job (default: random per job). */
  readonly seed?: number;
  /**
   * QPU usage a job that ran reports in its metrics (`usage.quantum_seconds`), from its shots
   * (default: 1 s + 0.0002 s per shot, rounded up to whole seconds as `bss.seconds` is).
   */
  readonly quantumSeconds?: (shots: number) => number;
  /** Plan cap and default of a batch's or session's max_ttl in seconds (default 28800, 8 h). */
  readonly sessionMaxTtlS?: number;
  /** Interactive TTL of dedicated sessions in seconds (default 60). */
  readonly interactiveTtlS?: number;
  /**
   * Executions (circuits x shots, summed over a job's PUBs; for an Estimator PUB its shots x
   * observables) a Sampler or Estimator job may hold; more is
   * refused at submission (default 10 million, https://quantum.cloud.ibm.com/docs/en/guides/job-limits).
   */
  readonly maxExecutionsPerJob?: number;
}

/** One request as the emulator saw it (no secrets: the Authorization value is not kept). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** `Bearer` when a bearer token was sent, else what the header held (or undefined). */
  readonly authScheme: string | undefined;
  /** Whether the token was one the emulator issued and still valid, expired, unknown or absent. */
  readonly token: 'valid' | 'expired' | 'unknown' | 'missing' | 'n/a';
  readonly serviceCrn: string | undefined;
  readonly apiVersion: string | undefined;
  readonly status: number;
  /** JSON request bodies of runtime calls (IAM bodies are never kept: they hold the key). */
  readonly body?: unknown;
}

/** A running emulator and its test controls. */
export interface IbmEmulator {
  /** Runtime API base (config `url`). */
  readonly url: string;
  /** IAM base (config `iamUrl`). */
  readonly iamUrl: string;
  readonly apiKey: string;
  readonly instanceCrn: string;
  readonly requests: RecordedRequest[];
  readonly devices: FakeDevice[];
  /** Jobs by submission order. */
  jobs(): EmulatedJob[];
  /** Ids of jobs a cancel request was received for. */
  readonly cancels: string[];
  /** Batches and sessions by creation order. */
  sessions(): EmulatedSession[];
  /** A session's state as GET /v1/sessions/{id} reports it now. */
  sessionState(id: string): 'open' | 'active' | 'inactive' | 'closed' | undefined;
  /** Tokens IAM has issued. */
  tokensIssued(): number;
  /** Makes every issued token invalid now (the next runtime call gets 401). */
  expireTokens(): void;
  /** IAM stops accepting the key, and every issued token becomes invalid. */
  revokeApiKey(): void;
  /** The next submitted job fails with this reason once it leaves the queue. */
  failNextJob(reason: string, reasonCode?: number): void;
  /** Runs `fn` when the next job submission arrives, before it is judged (e.g. to close its session in between). */
  beforeNextSubmit(fn: () => void): void;
  /** The next `count` runtime requests are answered with `status` (429 or 5xx), before auth. */
  injectErrors(count: number, status: number): void;
  close(): Promise<void>;
}

const DEFAULT_CRN =
  'crn:v1:bluemix:public:quantum-computing:us-east:a/0000emulator0000:11111111-2222-3333-4444-555555555555::';

/** Starts an emulator on 127.0.0.1 with a free port. */
export async function startIbmEmulator(options: IbmEmulatorOptions = {}): Promise<IbmEmulator> {
  const apiKey = options.apiKey ?? `emu-${randomBytes(16).toString('hex')}`;
  const instanceCrn = options.instanceCrn ?? DEFAULT_CRN;
  const devices = options.devices ?? defaultFakeDevices();
  const lifetimeS = options.tokenLifetimeS ?? 3600;
  const queueDelayMs = options.queueDelayMs ?? 50;
  const runDelayMs = options.runDelayMs ?? 20;
  const maxExecutions = options.maxExecutionsPerJob ?? 10_000_000;
  const tokens = new Map<string, number>();
  const jobs: EmulatedJob[] = [];
  const requests: RecordedRequest[] = [];
  const cancels: string[] = [];
  let keyRevoked = false;
  let issued = 0;
  let nextFailure: { reason: string; code?: number } | undefined;
  let injected: { count: number; status: number } = { count: 0, status: 500 };
  let beforeSubmit: (() => void) | undefined;
  const sessions = new EmulatedSessions(
    { maxTtlS: options.sessionMaxTtlS ?? 28_800, interactiveTtlS: options.interactiveTtlS ?? 60 },
    (name) => devices.some((d) => d.name === name),
    errors,
  );

  const tokenState = (req: IncomingMessage): RecordedRequest['token'] => {
    const auth = req.headers.authorization;
    if (!auth) return 'missing';
    const m = /^Bearer (.+)$/.exec(auth);
    if (!m) return 'unknown';
    const exp = tokens.get(m[1]!);
    if (exp === undefined) return 'unknown';
    return Date.now() < exp ? 'valid' : 'expired';
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err) =>
      send(res, 500, { errors: [{ code: 'internal', message: String((err as Error).message) }] }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const u = new URL(req.url ?? '/', 'http://emulator');
    const path = u.pathname;
    const record = (status: number, token: RecordedRequest['token'], body?: unknown) => {
      requests.push({
        method: req.method ?? '',
        path,
        status,
        token,
        body,
        authScheme: req.headers.authorization?.split(' ')[0],
        serviceCrn: header(req, 'service-crn'),
        apiVersion: header(req, 'ibm-api-version'),
      });
    };

    if (path === '/identity/token' && req.method === 'POST') {
      const form = new URLSearchParams(raw);
      let status = 200;
      let reply: unknown;
      if (form.get('grant_type') !== 'urn:ibm:params:oauth:grant-type:apikey' || !form.get('apikey')) {
        status = 400;
        reply = {
          errorCode: 'BXNIM0109E',
          errorMessage: 'Property missing or empty.',
          context: { requestId: randomUUID() },
        };
      } else if (keyRevoked || form.get('apikey') !== apiKey) {
        status = 400;
        reply = {
          errorCode: 'BXNIM0415E',
          errorMessage: 'Provided API key could not be found.',
          context: { requestId: randomUUID() },
        };
      } else {
        const token = randomBytes(24).toString('base64url');
        tokens.set(token, Date.now() + lifetimeS * 1000);
        issued++;
        reply = {
          access_token: token,
          refresh_token: 'not_supported',
          token_type: 'Bearer',
          expires_in: lifetimeS,
          expiration: Math.floor(Date.now() / 1000 + lifetimeS),
          scope: 'ibm openid',
        };
      }
      record(status, 'n/a');
      return send(res, status, reply);
    }

    if (!path.startsWith('/api/v1/')) {
      record(404, 'n/a');
      return send(res, 404, errors('not_found', `no route ${req.method} ${path}`));
    }
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        record(400, tokenState(req));
        return send(res, 400, errors('bad_request', 'request body is not JSON'));
      }
    }
    if (injected.count > 0) {
      injected.count--;
      record(injected.status, tokenState(req), body);
      res.setHeader('Retry-After', '0');
      return send(
        res,
        injected.status,
        errors('unavailable', injected.status === 429 ? 'Too many requests' : 'Service temporarily unavailable'),
      );
    }
    const token = tokenState(req);
    if (token !== 'valid') {
      record(401, token, body);
      return send(
        res,
        401,
        errors(
          'unauthorized',
          token === 'expired'
            ? 'Unauthorized: the access token has expired'
            : 'Unauthorized: missing or invalid access token',
        ),
      );
    }
    if (header(req, 'service-crn') !== instanceCrn) {
      record(403, token, body);
      return send(
        res,
        403,
        errors('forbidden', 'Forbidden: the Service-CRN header does not name an instance you can access'),
      );
    }
    const [status, reply] = route(req.method ?? 'GET', path.slice('/api/v1'.length), body);
    record(status, token, body);
    return send(res, status, reply);
  }

  function route(method: string, path: string, body: unknown): [number, unknown] {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (method === 'GET' && path === '/backends') {
      return [
        200,
        {
          devices: devices.map((d) => ({
            name: d.name,
            status: { name: d.status },
            is_simulator: false,
            qubits: d.nQubits,
            queue_length: queueLength(d),
            processor_type: { family: d.processorFamily, revision: '1.0' },
          })),
        },
      ];
    }
    if (method === 'GET' && parts[0] === 'backends' && parts.length === 3) {
      const d = devices.find((x) => x.name === parts[1]);
      if (!d) return [404, errors('not_found', `Backend ${parts[1]} not found`)];
      if (parts[2] === 'status')
        return [
          200,
          {
            state: d.status === 'online',
            status: d.status === 'online' ? 'active' : d.status,
            message: '',
            length_queue: queueLength(d),
            backend_version: '1.0.0',
          },
        ];
      if (parts[2] === 'configuration') return [200, configurationOf(d)];
    }
    if (method === 'POST' && path === '/jobs') return submit(body);
    const inSessions = sessions.route(method, parts, body);
    if (inSessions) return inSessions;
    if (parts[0] === 'jobs' && parts.length >= 2) {
      const job = jobs.find((j) => j.id === parts[1]);
      if (!job) return [404, errors('not_found', `Job ${parts[1]} not found`)];
      if (method === 'GET' && parts.length === 2) return [200, jobView(job)];
      if (method === 'GET' && parts[2] === 'metrics') return [200, metricsView(job)];
      if (method === 'GET' && parts[2] === 'results') {
        return job.status === 'Completed'
          ? [200, job.results]
          : [404, errors('not_found', `Job ${job.id} has no results (status ${job.status})`)];
      }
      if (method === 'POST' && parts[2] === 'cancel') {
        cancels.push(job.id);
        if (job.status !== 'Queued' && job.status !== 'Running')
          return [409, errors('conflict', `Job ${job.id} is in non cancellable status ${job.status}`)];
        job.cancelRequested = true;
        finish(job, 'Cancelled', 'Cancelled by user');
        return [204, undefined];
      }
    }
    return [404, errors('not_found', `no route ${method} /api/v1${path}`)];
  }

  function submit(body: unknown): [number, unknown] {
    const hook = beforeSubmit;
    beforeSubmit = undefined;
    hook?.();
    const b = body as
      | {
          program_id?: unknown;
          backend?: unknown;
          params?: { pubs?: unknown; shots?: unknown; version?: unknown; options?: { default_shots?: unknown } };
          session_id?: unknown;
        }
      | undefined;
    if (b?.program_id === 'estimator') return submitEstimator(b.backend, b.params, b.session_id);
    if (b?.program_id !== 'sampler')
      return [
        400,
        errors('invalid_program', `program_id must be 'sampler' or 'estimator' (got ${JSON.stringify(b?.program_id)})`),
      ];
    const device = devices.find((d) => d.name === b.backend);
    if (!device) return [404, errors('not_found', `Backend ${String(b.backend)} not found`)];
    const pubs = b.params?.pubs;
    if (b.params?.version !== 2 || !Array.isArray(pubs) || pubs.length === 0)
      return [400, errors('invalid_params', 'params must hold version 2 and a non-empty list of pubs')];
    const defaultShots =
      ([b.params.shots, b.params.options?.default_shots].find((x) => typeof x === 'number') as number | undefined) ??
      4096;
    const parsed: SamplerPub[] = [];
    for (const [i, pub] of pubs.entries()) {
      const read = readSamplerPub(pub, i, defaultShots);
      if ('error' in read) return [400, errors('invalid_params', read.error)];
      parsed.push(read);
    }
    const executions = parsed.reduce((n, p) => n + pubExecutions(p), 0);
    if (executions > maxExecutions)
      return [
        400,
        errors(
          'invalid_params',
          `Job has ${executions} executions (circuits x shots); at most ${maxExecutions} are allowed per job`,
        ),
      ];
    const badOption = unknownSamplerOption(b.params.options);
    if (badOption) return [400, errors('invalid_parameter', badOption)];
    const sessionId = typeof b.session_id === 'string' ? b.session_id : undefined;
    const refused = sessionId === undefined ? undefined : sessions.refuse(sessionId, device.name);
    if (refused) return refused;
    return queue(device, parsed, sessionId, {
      ...(b.params.options !== undefined && { options: b.params.options }),
    });
  }

  function submitEstimator(backend: unknown, params: unknown, session: unknown): [number, unknown] {
    const device = devices.find((d) => d.name === backend);
    if (!device) return [404, errors('not_found', `Backend ${String(backend)} not found`)];
    const checked = checkEstimatorRequest(params, device);
    if ('error' in checked) return [400, errors('invalid_params', checked.error)];
    const executions = estimatorExecutions(checked.pubs);
    if (executions > maxExecutions)
      return [
        400,
        errors(
          'invalid_params',
          `Job has ${executions} executions (shots x observables, summed over its ${checked.pubs.length} pubs); at most ${maxExecutions} are allowed per job`,
        ),
      ];
    const sessionId = typeof session === 'string' ? session : undefined;
    const refused = sessionId === undefined ? undefined : sessions.refuse(sessionId, device.name);
    if (refused) return refused;
    const pubs = checked.pubs.map((p) => ({ qasm: p.qasm, shots: p.shots }));
    return queue(device, pubs, sessionId, { estimator: checked.pubs });
  }

  /** Queues a job of `pubs` on `device` (in session `sessionId`), started after the queue delay. */
  function queue(
    device: FakeDevice,
    pubs: EmulatedJob['pubs'],
    sessionId: string | undefined,
    more: Pick<EmulatedJob, 'options' | 'estimator'>,
  ): [number, unknown] {
    const job: EmulatedJob = {
      id: randomBytes(10).toString('hex'),
      backend: device.name,
      status: 'Queued',
      created: new Date().toISOString(),
      timestamps: { created: new Date().toISOString() },
      qasm: pubs[0]!.qasm,
      shots: pubs[0]!.shots,
      pubs,
      ...(sessionId !== undefined && { sessionId }),
      ...more,
      cancelRequested: false,
      timers: [],
    };
    jobs.push(job);
    if (sessionId !== undefined) sessions.all.get(sessionId)!.pending++;
    const failure = nextFailure;
    nextFailure = undefined;
    job.timers.push(setTimeout(() => start(job, device, failure), queueDelayMs));
    return [200, { id: job.id, backend: job.backend }];
  }

  function start(job: EmulatedJob, device: FakeDevice, failure: { reason: string; code?: number } | undefined): void {
    if (job.status !== 'Queued') return;
    if (job.sessionId !== undefined && !sessions.mayStart(job.sessionId))
      return finish(
        job,
        'Failed',
        `session ${job.sessionId} was closed before the job started (its max_ttl was reached or it was cancelled); queued jobs of a closed session fail`,
      );
    if (job.sessionId !== undefined) sessions.jobStarted(job.sessionId);
    if (failure) return finish(job, 'Failed', failure.reason, failure.code);
    const circuits: Circuit[][] = [];
    for (const [i, pub] of job.pubs.entries()) {
      try {
        circuits.push(pubCircuits(pub));
      } catch (err) {
        return finish(
          job,
          'Failed',
          `Error code 1101; the OpenQASM 3 program of pub ${i} could not be parsed: ${(err as Error).message}`,
          1101,
        );
      }
      const violation = circuits[i]!.map((c) => isaViolation(c, device)).find((v) => v !== undefined);
      if (violation) return finish(job, 'Failed', job.pubs.length > 1 ? `pub ${i}: ${violation}` : violation, 1517);
    }
    job.status = 'Running';
    job.timestamps.running = new Date().toISOString();
    job.quantumSeconds = (options.quantumSeconds ?? defaultUsage)(job.pubs.reduce((n, p) => n + pubExecutions(p), 0));
    job.timers.push(
      setTimeout(() => {
        if (job.status !== 'Running') return;
        try {
          job.results = job.estimator
            ? estimatorResults(job.estimator, device, options.seed)
            : {
                results: circuits.map((c, i) => samplerPubResult(job.pubs[i]!, c, options.seed)),
                metadata: { version: 2, execution: { execution_spans: [] } },
              };
          finish(job, 'Completed');
        } catch (err) {
          if (err instanceof EstimatorJobFailure) return finish(job, 'Failed', err.message, err.code);
          finish(job, 'Failed', `Error code 1500; the job failed while running: ${(err as Error).message}`, 1500);
        }
      }, runDelayMs),
    );
  }

  function finish(job: EmulatedJob, status: EmulatedJob['status'], reason?: string, code?: number): void {
    if (job.sessionId !== undefined) sessions.jobEnded(job.sessionId);
    job.status = status;
    job.timestamps.finished = new Date().toISOString();
    job.reason = reason;
    job.reasonCode = code;
    for (const t of job.timers) clearTimeout(t);
  }

  function queueLength(d: FakeDevice): number {
    return d.pendingJobs + jobs.filter((j) => j.backend === d.name && j.status === 'Queued').length;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/api`,
    iamUrl: origin,
    apiKey,
    instanceCrn,
    requests,
    devices,
    cancels,
    jobs: () => [...jobs],
    sessions: () => [...sessions.all.values()],
    sessionState: (id) => {
      const x = sessions.all.get(id);
      return x && sessions.state(x);
    },
    tokensIssued: () => issued,
    expireTokens: () => {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    revokeApiKey: () => {
      keyRevoked = true;
      tokens.clear();
    },
    failNextJob: (reason, reasonCode) => {
      nextFailure = { reason, code: reasonCode };
    },
    beforeNextSubmit: (fn) => {
      beforeSubmit = fn;
    },
    injectErrors: (count, status) => {
      injected = { count, status };
    },
    close: async () => {
      for (const j of jobs) for (const t of j.timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function errors(code: string, message: string): unknown {
  return {
    errors: [{ code, message, more_info: 'https://quantum.cloud.ibm.com/docs/api/runtime' }],
    trace: randomUUID(),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
