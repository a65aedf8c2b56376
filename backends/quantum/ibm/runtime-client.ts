/**
 * A small Qiskit Runtime REST client: every request carries the IAM bearer token, the
 * `Service-CRN` of the instance and the API version; a 401 renews the token once; 429, 5xx and
 * network failures are retried by {@link requestWithRetry}.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { requestWithRetry } from './http-retry.ts';
import { dropIamToken, iamToken, scrubSecret, type IamSource } from './iam-token.ts';
import {
  IBM_API_VERSION,
  errorText,
  type DeviceConfiguration,
  type DeviceListEntry,
  type DeviceStatusReply,
  type JobCreateReply,
  type JobMetricsReply,
  type JobReply,
  type SamplerJobRequest,
  type SamplerResultsReply,
  type SessionCreateRequest,
  type SessionReply,
} from './runtime-wire.ts';
import type { EstimatorJobRequest } from './estimator-pubs.ts';

/** Where the client talks and as whom. */
export interface RuntimeClientOptions {
  /** Orrery backend name, for error messages. */
  readonly backend: string;
  /** API base, e.g. https://quantum.cloud.ibm.com/api (paths `/v1/...` are appended). */
  readonly url: string;
  readonly instanceCrn: string;
  readonly iam: IamSource;
}

/** A reply the caller judges itself (404, 409, 400 are meaningful per call). */
interface Reply {
  readonly status: number;
  readonly text: string;
}

/** The Runtime endpoints Orrery uses. */
export class RuntimeClient {
  private readonly base: string;

  constructor(private readonly opts: RuntimeClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  /** Devices this instance may use (`GET /v1/backends`). */
  async listDevices(): Promise<DeviceListEntry[]> {
    const r = await this.call('GET', '/v1/backends', undefined, 'list IBM Quantum devices');
    this.expectOk(r, 'list IBM Quantum devices');
    return this.parse<{ devices?: DeviceListEntry[] }>(r.text).devices ?? [];
  }

  /** A device's queue and operational state, or undefined when the device does not exist. */
  async deviceStatus(name: string): Promise<DeviceStatusReply | undefined> {
    const what = `read the status of device ${name}`;
    const r = await this.call('GET', `/v1/backends/${encodeURIComponent(name)}/status`, undefined, what);
    if (r.status === 404) return undefined;
    this.expectOk(r, what);
    return this.parse<DeviceStatusReply>(r.text);
  }

  /** A device's qubits, native gates and coupling map, or undefined when the device does not exist. */
  async deviceConfiguration(name: string): Promise<DeviceConfiguration | undefined> {
    const what = `read the configuration of device ${name}`;
    const r = await this.call('GET', `/v1/backends/${encodeURIComponent(name)}/configuration`, undefined, what);
    if (r.status === 404) return undefined;
    this.expectOk(r, what);
    return this.parse<DeviceConfiguration>(r.text);
  }

  /** Submits a job (`POST /v1/jobs`). Not retried after the service answered: a 4xx is final. */
  async submit(job: SamplerJobRequest | EstimatorJobRequest): Promise<JobCreateReply> {
    const what = `submit ${job.program_id === 'estimator' ? 'an Estimator' : 'a Sampler'} job to ${job.backend}`;
    const r = await this.call('POST', '/v1/jobs', job, what);
    if (r.status === 409)
      throw new BackendError(
        this.opts.backend,
        `IBM Quantum did not accept the job: ${errorText(r.text)}. The instance's usage limit is reached; raise it or wait for the next period`,
        false,
      );
    if (r.status === 400 || r.status === 404)
      throw new BackendError(
        this.opts.backend,
        `IBM Quantum rejected the job for ${job.backend} (HTTP ${r.status}): ${errorText(r.text)}`,
        false,
      );
    this.expectOk(r, what);
    return this.parse<JobCreateReply>(r.text);
  }

  /** A job's state (`GET /v1/jobs/{id}`). */
  async job(id: string): Promise<JobReply> {
    const what = `read the state of job ${id}`;
    const r = await this.call('GET', `/v1/jobs/${encodeURIComponent(id)}?exclude_params=true`, undefined, what);
    this.expectOk(r, what);
    return this.parse<JobReply>(r.text);
  }

  /** A completed job's results (`GET /v1/jobs/{id}/results`). */
  async results(id: string): Promise<SamplerResultsReply> {
    const what = `fetch the results of job ${id}`;
    const r = await this.call('GET', `/v1/jobs/${encodeURIComponent(id)}/results`, undefined, what);
    this.expectOk(r, what);
    return this.parse<SamplerResultsReply>(r.text);
  }

  /** A job's metrics (`GET /v1/jobs/{id}/metrics`): its QPU usage once it finished. */
  async metrics(id: string): Promise<JobMetricsReply> {
    const what = `read the metrics of job ${id}`;
    const r = await this.call('GET', `/v1/jobs/${encodeURIComponent(id)}/metrics`, undefined, what);
    this.expectOk(r, what);
    return this.parse<JobMetricsReply>(r.text);
  }

  /** Cancels a job (`POST /v1/jobs/{id}/cancel`); false when it had already reached a final state (409). */
  async cancel(id: string): Promise<boolean> {
    const what = `cancel job ${id}`;
    const r = await this.call('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`, undefined, what);
    if (r.status === 409) return false;
    this.expectOk(r, what);
    return true;
  }

  /** Opens a batch or session (`POST /v1/sessions`); a 4xx (e.g. sessions not in the plan) is final. */
  async createSession(body: SessionCreateRequest): Promise<SessionReply> {
    const what = `open a ${body.mode === 'dedicated' ? 'session' : 'batch'} on ${body.backend}`;
    const r = await this.call('POST', '/v1/sessions', body, what);
    if (r.status === 400 || r.status === 404)
      throw new BackendError(
        this.opts.backend,
        `IBM Quantum refused to ${what} (HTTP ${r.status}): ${errorText(r.text)}`,
        false,
      );
    this.expectOk(r, what);
    return this.parse<SessionReply>(r.text);
  }

  /** A batch's or session's state (`GET /v1/sessions/{id}`), or undefined when the service does not know it. */
  async session(id: string): Promise<SessionReply | undefined> {
    const what = `read the state of session ${id}`;
    const r = await this.call('GET', `/v1/sessions/${encodeURIComponent(id)}`, undefined, what);
    if (r.status === 404) return undefined;
    this.expectOk(r, what);
    return this.parse<SessionReply>(r.text);
  }

  /** Closes a batch or session (`PATCH /v1/sessions/{id}` with `accepting_jobs: false`): queued jobs still run. */
  async closeSession(id: string): Promise<void> {
    const what = `close session ${id}`;
    const r = await this.call('PATCH', `/v1/sessions/${encodeURIComponent(id)}`, { accepting_jobs: false }, what);
    if (r.status === 404) return;
    this.expectOk(r, what);
  }

  private async call(method: string, path: string, body: unknown, what: string): Promise<Reply> {
    for (let renewed = false; ; renewed = true) {
      const token = await iamToken(this.opts.iam);
      const headers: Record<string, string> = {
        Authorization: `Bearer ${token}`,
        'Service-CRN': this.opts.instanceCrn,
        'IBM-API-Version': IBM_API_VERSION,
        Accept: 'application/json',
      };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const r = await requestWithRetry(
        `${this.base}${path}`,
        { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
        { backend: this.opts.backend, what },
      );
      if (r.status === 401) {
        dropIamToken(this.opts.iam, token);
        if (!renewed) continue;
        throw new BackendError(
          this.opts.backend,
          `IBM Quantum refused a fresh IAM token to ${what} (HTTP 401: ${this.detail(r.text)}); check that the API key in secret ${this.opts.iam.secretName} belongs to the account of instance ${this.opts.instanceCrn}`,
          false,
        );
      }
      if (r.status === 403) {
        throw new BackendError(
          this.opts.backend,
          `IBM Quantum denied access to ${what} (HTTP 403: ${this.detail(r.text)}); check that instanceCrn is the CRN of a Qiskit Runtime instance the API key in secret ${this.opts.iam.secretName} may use`,
          false,
        );
      }
      return { status: r.status, text: r.text };
    }
  }

  private expectOk(r: Reply, what: string): void {
    if (r.status >= 200 && r.status < 300) return;
    throw new BackendError(this.opts.backend, `could not ${what}: HTTP ${r.status}: ${this.detail(r.text)}`, false);
  }

  private parse<T>(text: string): T {
    try {
      return (text === '' ? {} : JSON.parse(text)) as T;
    } catch {
      throw new BackendError(
        this.opts.backend,
        `IBM Quantum at ${this.base} answered with a body that is not JSON (${text.slice(0, 120)}); check url in the backend config`,
        true,
      );
    }
  }

  private detail(text: string): string {
    return scrubSecret(errorText(text), this.opts.iam.apiKey);
  }
}
