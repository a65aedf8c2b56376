/**
 * Runs one Estimator task on IBM Quantum: choose the device, transpile, map the observables
 * through the final layout (ISA observables), submit one Estimator V2 PUB, poll, read evs/stds.
 * The service does the basis changes and grouping itself; Orrery only maps qubits.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { EstimatorRun, EstimatorTaskResult } from '../estimator-run.ts';
import { toQasm3 } from '../qasm/index.ts';
import { targetFromIbmConfiguration, transpile } from '../transpile/index.ts';
import { DEFAULT_POLL_INTERVAL_MS, type IbmQuantumConfig } from './config.ts';
import { LEAST_BUSY, checkQubits, chooseDevice } from './device-choice.ts';
import { estimatorJobRequest, readEstimatorResults, type EstimatorResultsReply } from './estimator-pubs.ts';
import { leaveSession, submitInMode } from './execution-mode.ts';
import { cancelQuietly, clientFor, jobState, pollUntilFinal, throwIfAborted } from './ibm-runner.ts';
import { reportIbmCost, reserveIbmJob } from './job-cost.ts';
import type { JobReply } from './runtime-wire.ts';

/** Runs `run` as one Estimator V2 job. Cancelling the task (run.signal) cancels the job. */
export async function estimateOnIbm(config: IbmQuantumConfig, run: EstimatorRun): Promise<EstimatorTaskResult> {
  const started = performance.now();
  throwIfAborted(run.signal);
  const client = await clientFor(config);
  let id: string;
  let device: string;
  let estimate: Awaited<ReturnType<typeof reserveIbmJob>>;
  let sessionId: string | undefined;
  if (run.resumeJobId) {
    id = run.resumeJobId;
    device = (await client.job(id)).backend ?? run.device ?? String(config.device ?? 'unknown');
    run.report({ jobId: id, device, program: 'estimator', resumed: true });
    run.log(`IBM Quantum Estimator job ${id} on ${device}: followed again after a head restart`);
  } else {
    const needed = run.circuit.numQubits;
    device = chooseDevice(config.name, await client.listDevices(), run.device ?? config.device ?? LEAST_BUSY, needed);
    const configuration = await client.deviceConfiguration(device);
    if (!configuration)
      throw new BackendError(
        config.name,
        `device ${device} was listed but has no configuration on the service; try again or choose another device`,
        true,
      );
    checkQubits(config.name, device, configuration.n_qubits, needed);
    const unmeasured = { ...run.circuit, ops: run.circuit.ops.filter((op) => op.kind !== 'measure') };
    const mapped = transpile(unmeasured, targetFromIbmConfiguration(configuration));
    const body = estimatorJobRequest(device, {
      qasm: toQasm3(mapped.circuit, { physicalQubits: true }),
      observables: run.observables,
      finalLayout: mapped.finalLayout,
      deviceQubits: configuration.n_qubits,
      shots: run.shots,
      precision: run.precision,
    });
    throwIfAborted(run.signal);
    // Without shots the service's default precision decides them: estimated as 1/precision^2 (4096 at its default).
    estimate = await reserveIbmJob(
      config,
      run,
      device,
      1,
      run.shots ?? Math.ceil(1 / (run.precision ?? 0.015625) ** 2),
    );
    ({ id, sessionId } = await submitInMode(config, client, body, run));
    run.report({
      jobId: id,
      device,
      program: 'estimator',
      swaps: mapped.swaps,
      depth: mapped.depth,
      jobStatus: 'Queued',
    });
    run.log(
      `IBM Quantum Estimator job ${id} submitted to ${device} (${run.observables.length} observable(s), ${mapped.swaps} swaps, depth ${mapped.depth})`,
    );
  }

  let job: JobReply;
  let last = '';
  try {
    job = await pollUntilFinal(client, id, config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, run.signal, async (j) => {
      const state = jobState(j);
      if (state === last) return;
      last = state;
      run.log(`IBM Quantum Estimator job ${id}: ${state}`);
      run.report({ jobId: id, device, program: 'estimator', jobStatus: state });
    });
  } catch (err) {
    if (!run.signal.aborted) throw err;
    await cancelQuietly(client, id, run);
    throw run.signal.reason;
  } finally {
    await leaveSession(undefined, sessionId);
  }
  await reportIbmCost(client, config, id, run, run.report, estimate);
  const state = jobState(job);
  if (state !== 'Completed') {
    const s = job.state;
    throw new BackendError(
      config.name,
      state === 'Failed'
        ? `IBM Quantum Estimator job ${id} on ${device} failed: ${s.reason ?? 'no reason given'}${s.reason_code !== undefined ? ` (error code ${s.reason_code})` : ''}`
        : `IBM Quantum Estimator job ${id} on ${device} was cancelled on the service (${s.reason ?? state}); run the task again`,
      false,
    );
  }
  const reply = (await client.results(id)) as unknown as EstimatorResultsReply;
  const result = readEstimatorResults(config.name, id, reply, run.observables.length);
  run.log(`IBM Quantum Estimator job ${id} completed on ${device}`);
  return { ...result, device, backend: config.name, durationMs: performance.now() - started, jobIds: [id] };
}
