/**
 * Runs one circuit task on IBM Quantum: read the API key from the keychain, choose the device,
 * transpile to its native gates and coupling map, submit a Sampler V2 job, poll it (reporting
 * the queue position), and turn its hex samples into Counts over the original circuit's clbits.
 *
 * The Runtime API tells no job its place in the queue, so the position is estimated: the
 * device's pending jobs at submission plus one, lowered while the device's queue shrinks.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { readSecret } from '../../../orchestrator/core/keychain.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../run-types.ts';
import { toQasm3 } from '../qasm/index.ts';
import { targetFromIbmConfiguration, transpile } from '../transpile/index.ts';
import { DEFAULT_IAM_URL, DEFAULT_IBM_URL, DEFAULT_POLL_INTERVAL_MS, type IbmQuantumConfig } from './config.ts';
import { LEAST_BUSY, checkQubits, chooseDevice } from './device-choice.ts';
import { abortableSleep } from './http-retry.ts';
import { reportIbmCost, reserveIbmJob } from './job-cost.ts';
import type { IamSource } from './iam-token.ts';
import { RuntimeClient } from './runtime-client.ts';
import type { JobReply } from './runtime-wire.ts';
import { samplesToCounts } from './sampler-results.ts';
import { leaveSession, submitInMode } from './execution-mode.ts';

const FINAL = new Set(['Completed', 'Failed', 'Cancelled', 'Cancelled - Ran too long']);

/** Runs `run` on the IBM Quantum instance of `config`. Cancelling the task (run.signal) cancels the remote job. */
export async function runOnIbm(config: IbmQuantumConfig, run: CircuitRun): Promise<CircuitResult> {
  const started = performance.now();
  throwIfAborted(run.signal);
  const client = await clientFor(config);
  let id: string;
  let device: string;
  let position: number | undefined;
  let estimate: Awaited<ReturnType<typeof reserveIbmJob>>;
  let sessionId: string | undefined;
  const info: Record<string, string | number | boolean> = {};
  const report = (more: TaskInfo) => {
    Object.assign(info, more);
    run.report({ ...info });
  };
  if (run.resumeJobId) {
    id = run.resumeJobId;
    const known = await client.job(id);
    device = known.backend ?? run.device ?? String(config.device ?? 'unknown');
    report({ jobId: id, device, jobStatus: jobState(known), resumed: true });
    run.log(`IBM Quantum job ${id} on ${device}: followed again after a head restart (${jobState(known)})`);
  } else {
    const wanted = run.device ?? config.device ?? LEAST_BUSY;
    const needed = run.circuit.numQubits;
    device = chooseDevice(config.name, await client.listDevices(), wanted, needed);
    const configuration = await client.deviceConfiguration(device);
    if (!configuration)
      throw new BackendError(
        config.name,
        `device ${device} was listed but has no configuration on the service; try again or choose another device`,
        true,
      );
    checkQubits(config.name, device, configuration.n_qubits, needed);
    const status = await client.deviceStatus(device);
    if (status && !status.state)
      run.log(
        `device ${device} is not operational (${status.status}${status.message ? `: ${status.message}` : ''}); the job waits until it is`,
      );

    const mapped = transpile(run.circuit, targetFromIbmConfiguration(configuration));
    const qasm = toQasm3(mapped.circuit, { physicalQubits: true });
    throwIfAborted(run.signal);
    estimate = await reserveIbmJob(config, run, device, 1, run.shots);
    const options = { ...config.ibmOptions, ...run.ibmOptions };
    ({ id, sessionId } = await submitInMode(
      config,
      client,
      {
        program_id: 'sampler',
        backend: device,
        params: {
          pubs: [[qasm]],
          shots: run.shots,
          version: 2,
          support_qiskit: false,
          ...(Object.keys(options).length > 0 && { options }),
        },
      },
      { log: run.log, report },
    ));

    position = status ? status.length_queue + 1 : undefined;
    report({
      jobId: id,
      device,
      swaps: mapped.swaps,
      depth: mapped.depth,
      jobStatus: 'Queued',
      ...(position !== undefined ? { queuePosition: position } : {}),
    });
    run.log(
      `IBM Quantum job ${id} submitted to ${device} (${mapped.swaps} swaps, depth ${mapped.depth}${position !== undefined ? `, about ${position} in the queue` : ''})`,
    );
  }

  let job: JobReply;
  try {
    job = await pollUntilFinal(client, id, config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, run.signal, async (j) => {
      const state = jobState(j);
      if (state !== info.jobStatus) {
        run.log(`IBM Quantum job ${id}: ${state}`);
        report({ jobStatus: state });
      }
      if (state !== 'Queued' && position !== undefined && position !== 0) {
        position = 0;
        report({ queuePosition: 0 });
      } else if (state === 'Queued' && position !== undefined) {
        const now = await client.deviceStatus(device);
        const next = now ? Math.max(1, Math.min(position, now.length_queue)) : position;
        if (next !== position) {
          position = next;
          report({ queuePosition: next });
        }
      }
    });
  } catch (err) {
    if (!run.signal.aborted) throw err;
    await cancelQuietly(client, id, run);
    throw run.signal.reason;
  } finally {
    await leaveSession(undefined, sessionId);
  }

  await reportIbmCost(client, config, id, run, report, estimate);
  const state = jobState(job);
  if (state === 'Failed') {
    const s = job.state;
    const code = s.reason_code !== undefined ? ` (error code ${s.reason_code})` : '';
    throw new BackendError(
      config.name,
      `IBM Quantum job ${id} on ${device} failed: ${s.reason ?? 'no reason given'}${code}${s.reason_solution ? `. ${s.reason_solution}` : ''}`,
      false,
    );
  }
  if (state !== 'Completed') {
    throw new BackendError(
      config.name,
      `IBM Quantum job ${id} on ${device} was cancelled on the service (${job.state.reason ?? state}); run the task again`,
      false,
    );
  }
  const results = await client.results(id);
  const pub = results.results?.[0];
  if (!pub)
    throw new BackendError(
      config.name,
      `IBM Quantum job ${id} completed without results; fetch them later with GET /v1/jobs/${id}/results or run the task again`,
      true,
    );
  const counts = samplesToCounts(config.name, pub.data, run.circuit.cregs);
  run.log(`IBM Quantum job ${id} completed on ${device}`);
  return { counts, shots: run.shots, device, backend: config.name, durationMs: performance.now() - started, jobId: id };
}

/** What `orrery backends test` shows: the devices the instance reaches, their size and queue. */
export async function describeIbm(config: IbmQuantumConfig): Promise<string[]> {
  const client = await clientFor(config);
  const devices = await client.listDevices();
  const lines = [
    `IBM Quantum instance ${config.instanceCrn} at ${config.url ?? DEFAULT_IBM_URL}: ${devices.length} device(s); device choice: ${config.device ?? LEAST_BUSY}`,
  ];
  for (const d of devices)
    lines.push(`${d.name}: ${d.qubits ?? '?'} qubits, ${d.status.name}, ${d.queue_length} pending jobs`);
  return lines;
}

/** Shared with estimator-runner.ts. */
/** A Runtime client for the backend's instance, its API key read from the keychain. */
export async function clientFor(config: IbmQuantumConfig): Promise<RuntimeClient> {
  const apiKey = await readSecret(config.name, config.apiKeySecret, 'the IBM Quantum API key');
  const iam: IamSource = {
    backend: config.name,
    iamUrl: config.iamUrl ?? DEFAULT_IAM_URL,
    apiKey,
    secretName: config.apiKeySecret,
  };
  return new RuntimeClient({
    backend: config.name,
    url: config.url ?? DEFAULT_IBM_URL,
    instanceCrn: config.instanceCrn,
    iam,
  });
}

/**
 * Polls until the job is final. The wait starts at `firstMs` and grows by half each poll up to
 * 16 times that (at most 30 s), since most of a job's life is spent queued.
 */
/** Shared with estimator-runner.ts. */
export async function pollUntilFinal(
  client: RuntimeClient,
  id: string,
  firstMs: number,
  signal: AbortSignal,
  onState: (j: JobReply) => Promise<void>,
): Promise<JobReply> {
  const cap = Math.max(firstMs, Math.min(30_000, firstMs * 16));
  for (let wait = firstMs; ; wait = Math.min(cap, wait * 1.5)) {
    await abortableSleep(wait, signal);
    const job = await client.job(id);
    throwIfAborted(signal);
    await onState(job);
    if (FINAL.has(jobState(job))) return job;
  }
}

/** Shared with estimator-runner.ts. */
export async function cancelQuietly(client: RuntimeClient, id: string, run: Pick<CircuitRun, 'log'>): Promise<void> {
  try {
    const cancelled = await client.cancel(id);
    run.log(
      cancelled
        ? `IBM Quantum job ${id} cancelled`
        : `IBM Quantum job ${id} had already finished when the task was cancelled`,
    );
  } catch (err) {
    run.log(`could not cancel IBM Quantum job ${id}: ${(err as Error).message}; cancel it on IBM Quantum Platform`);
  }
}

/** Shared with estimator-runner.ts. */
export function jobState(job: JobReply): string {
  return job.state?.status ?? job.status;
}

/** Shared with estimator-runner.ts. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}
