/**
 * Runs one circuit task as an Amazon Braket quantum task: check the device (GetDevice), submit
 * the circuit as OpenQASM 3 (CreateQuantumTask, idempotent by client token), poll
 * GetQuantumTask with queue info and growing waits, cancel the remote task when the Orrery task
 * is cancelled, and read results.json from the output S3 directory once the task completed.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CancelQuantumTaskCommand,
  CreateQuantumTaskCommand,
  GetDeviceCommand,
  GetQuantumTaskCommand,
  type GetQuantumTaskCommandOutput,
} from '@aws-sdk/client-braket';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { toQasm3 } from '../qasm/index.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../run-types.ts';
import { openAws, toBackendError, type AwsAccess } from './aws-access.ts';
import { isRetryableAwsError } from '../../transport/aws-errors.ts';
import { DEFAULT_POLL_INTERVAL_MS, isDeviceArn, s3PrefixOf, type BraketConfig } from './config.ts';
import { checkDeviceFor, deviceFacts, OPENQASM_ACTION } from './device.ts';
import { deviceParametersFor, type BraketOptions } from './device-parameters.ts';
import { estimateCost, loadPriceTable } from './pricing.ts';
import { clbitSources, countsFromResult, MidCircuitMeasurementError, parseTaskResult } from './task-results.ts';

/** Polls wait at most this many times the first interval. */
const MAX_POLL_GROWTH = 10;
/** Transient polling failures in a row before the task gives up. */
const MAX_POLL_FAILURES = 8;

/** Runs a circuit on Braket and returns its counts over the circuit's classical bits. */
export async function runOnBraket(config: BraketConfig, run: CircuitRun): Promise<CircuitResult> {
  const started = performance.now();
  const device = run.device ?? config.deviceArn;
  checkDeviceArn(config, device);
  try {
    clbitSources(run.circuit);
  } catch (err) {
    if (err instanceof MidCircuitMeasurementError) throw new BackendError(config.name, err.message, false);
    throw err;
  }
  if (run.signal.aborted) throw cancelled(config, 'before it was submitted');
  const aws = await openAws(config);
  try {
    return await new BraketTask(config, run, device, aws).execute(started);
  } finally {
    aws.close();
  }
}

/** Throws a BackendError when `device` is no Braket device ARN or lies in another region than the backend's. */
export function checkDeviceArn(config: BraketConfig, device: string): void {
  if (!isDeviceArn(device)) {
    throw new BackendError(
      config.name,
      `device ${JSON.stringify(device)} is not a Braket device ARN (such as 'arn:aws:braket:::device/quantum-simulator/amazon/sv1'); fix the task's device option`,
      false,
    );
  }
  const arnRegion = device.split(':')[3];
  if (arnRegion && arnRegion !== config.region) {
    throw new BackendError(
      config.name,
      `device ${device} is in region ${arnRegion} but the backend uses ${config.region}; give the backend region '${arnRegion}' (a Braket QPU is reached through its own region)`,
      false,
    );
  }
}

/** One quantum task from submission to results. */
class BraketTask {
  private readonly info: Record<string, string | number | boolean> = {};
  private doing = '';

  constructor(
    private readonly config: BraketConfig,
    private readonly run: CircuitRun,
    private readonly device: string,
    private readonly aws: AwsAccess,
  ) {}

  async execute(started: number): Promise<CircuitResult> {
    const { config, run, device } = this;
    try {
      let arn: string;
      if (run.resumeJobId) {
        // Submitted before the head restarted (the session kept the ARN): follow it, do not run it twice.
        arn = run.resumeJobId;
        Object.assign(this.info, { jobId: arn, device, resumed: true });
        run.report({ ...this.info });
        run.log(`braket: following quantum task ${arn} again after a head restart`);
      } else {
        this.doing = `GetDevice ${device}`;
        const facts = deviceFacts(
          await this.aws.braket.send(new GetDeviceCommand({ deviceArn: device }), { abortSignal: run.signal }),
        );
        checkDeviceFor(config.name, facts, run.circuit.numQubits, run.shots);
        const label = facts.name ? `${facts.name} (${device})` : device;
        const options = run.braketOptions as BraketOptions | undefined;
        arn = await this.create(
          deviceParametersFor(config.name, label, facts.parametersSchema, run.circuit.numQubits, options),
        );
      }
      const final = await this.poll(arn);
      this.doing = `reading the results of quantum task ${arn}`;
      const key = `${final.outputS3Directory}/results.json`;
      const object = await this.aws.s3.send(new GetObjectCommand({ Bucket: final.outputS3Bucket, Key: key }));
      const result = parseTaskResult(await object.Body!.transformToString());
      const simulatedMs = result.additionalMetadata?.simulatorMetadata?.executionDuration;
      if (simulatedMs !== undefined) this.reportCost(result.taskMetadata.shots, simulatedMs);
      const counts = countsFromResult(result, run.circuit);
      run.log(`braket: quantum task ${arn} completed; results read from s3://${final.outputS3Bucket}/${key}`);
      return {
        counts,
        shots: run.shots,
        device,
        backend: config.name,
        durationMs: performance.now() - started,
        jobId: arn,
      };
    } catch (err) {
      if (err instanceof BackendError || (err as Error)?.name === 'BudgetExceededError') throw err;
      if ((err as Error)?.name === 'NoSuchKey') {
        throw new BackendError(
          config.name,
          `${this.doing}: the task completed but its results.json is not in S3 (NoSuchKey); check lifecycle rules on bucket ${config.s3Bucket}`,
          false,
        );
      }
      if ((err as Error)?.name === 'BraketResultFormatError')
        throw new BackendError(config.name, `${this.doing}: ${(err as Error).message}`, false);
      if ((err as Error)?.name === 'ValidationException') {
        throw new BackendError(
          config.name,
          `${this.doing}: Braket rejected the circuit (ValidationException: ${(err as Error).message}). The OpenQASM sent was:\n${toQasm3(run.circuit)}`,
          false,
        );
      }
      if ((err as Error)?.name === 'ResourceNotFoundException' && this.doing.startsWith('GetDevice')) {
        throw new BackendError(
          config.name,
          `no Braket device ${device} in region ${config.region}; check the ARN (aws braket search-devices lists them)`,
          false,
        );
      }
      if (run.signal.aborted && !this.info.jobId) throw cancelled(config, 'before it was submitted');
      throw toBackendError(config.name, this.aws, this.doing, err);
    }
  }

  /** Submits the task; the client token makes the SDK's retries of this call safe. */
  private async create(deviceParameters: string | undefined): Promise<string> {
    const { config, run, device } = this;
    const action = { braketSchemaHeader: { name: OPENQASM_ACTION, version: '1' }, source: toQasm3(run.circuit) };
    const priced = estimateCost(loadPriceTable(), device, run.shots);
    if (priced) await run.reserve?.(priced.costUsd, `Braket quantum task on ${device} (${run.shots} shots)`);
    this.doing = `CreateQuantumTask on ${device}`;
    const out = await this.aws.braket.send(
      new CreateQuantumTaskCommand({
        deviceArn: device,
        shots: run.shots,
        action: JSON.stringify(action),
        outputS3Bucket: config.s3Bucket,
        outputS3KeyPrefix: s3PrefixOf(config),
        clientToken: randomUUID(),
        ...(deviceParameters !== undefined && { deviceParameters }),
        tags: { 'orrery-backend': config.name },
      }),
    );
    const arn = out.quantumTaskArn!;
    this.info.jobId = arn;
    this.info.device = device;
    const estimate = this.reportCost(run.shots);
    run.log(
      `braket: submitted quantum task ${arn} to ${device} (${run.shots} shots${estimate ? `, estimated $${estimate.toFixed(4)}` : ''})`,
    );
    return arn;
  }

  /** Records the cost estimate (and everything known so far) on the task. */
  private reportCost(shots: number, simulatedMs?: number): number | undefined {
    const estimate = estimateCost(loadPriceTable(), this.device, shots, simulatedMs);
    if (estimate) {
      this.info.costUsd = estimate.costUsd;
      this.info.costBasis = estimate.basis;
    }
    this.run.report({ ...this.info } satisfies TaskInfo);
    return estimate?.costUsd;
  }

  /** Polls until the task is COMPLETED; FAILED or CANCELLED become BackendErrors, an abort cancels the task. */
  private async poll(arn: string): Promise<GetQuantumTaskCommandOutput> {
    const { config, run } = this;
    const base = config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    let wait = base;
    let failures = 0;
    let lastStatus = '';
    for (;;) {
      if (run.signal.aborted) return this.cancel(arn);
      this.doing = `GetQuantumTask ${arn}`;
      let t: GetQuantumTaskCommandOutput;
      try {
        t = await this.aws.braket.send(
          new GetQuantumTaskCommand({ quantumTaskArn: arn, additionalAttributeNames: ['QueueInfo'] }),
          { abortSignal: run.signal },
        );
        failures = 0;
      } catch (err) {
        if (run.signal.aborted) return this.cancel(arn);
        if (!isRetryableAwsError(err) || ++failures >= MAX_POLL_FAILURES) throw err;
        run.log(`braket: polling ${arn} failed (${(err as Error).name}: ${(err as Error).message}); trying again`);
        await this.pause(wait, arn);
        continue;
      }
      const status = t.status ?? '';
      if (status !== lastStatus) {
        run.log(`braket: quantum task ${arn} is ${status}`);
        lastStatus = status;
      }
      if (status === 'COMPLETED') {
        if (this.info.queuePosition !== undefined) {
          delete this.info.queuePosition;
          run.report({ ...this.info });
        }
        return t;
      }
      if (status === 'FAILED') {
        throw new BackendError(
          config.name,
          `quantum task ${arn} failed on ${this.device}: ${t.failureReason ?? 'Braket gave no reason'}`,
          false,
        );
      }
      if (status === 'CANCELLED' || status === 'CANCELLING') {
        throw new BackendError(
          config.name,
          `quantum task ${arn} was cancelled outside Orrery (status ${status})`,
          false,
        );
      }
      this.noteQueue(t);
      await this.pause(wait, arn);
      wait = Math.min(wait * 1.5, base * MAX_POLL_GROWTH);
    }
  }

  /** Reports a changed queue position (Braket gives it as text, e.g. `3` or `>2000`). */
  private noteQueue(t: GetQuantumTaskCommandOutput): void {
    const raw = t.status === 'QUEUED' ? t.queueInfo?.position : undefined;
    const position = raw === undefined || raw === 'None' ? undefined : /^\d+$/.test(raw) ? Number(raw) : raw;
    if (position === this.info.queuePosition) return;
    if (position === undefined) delete this.info.queuePosition;
    else {
      this.info.queuePosition = position;
      this.run.log(
        `braket: quantum task ${t.quantumTaskArn} is at position ${position} in the ${t.queueInfo?.queuePriority ?? 'Normal'} queue of ${this.device}`,
      );
    }
    this.run.report({ ...this.info });
  }

  /** Sleeps; an abort while sleeping cancels the remote task. */
  private async pause(ms: number, arn: string): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.run.signal });
    } catch {
      await this.cancel(arn);
    }
  }

  /** Cancels the remote task and throws: the Orrery task was cancelled. */
  private async cancel(arn: string): Promise<never> {
    let outcome: string;
    try {
      const out = await this.aws.braket.send(
        new CancelQuantumTaskCommand({ quantumTaskArn: arn, clientToken: randomUUID() }),
      );
      outcome = `Braket is ${out.cancellationStatus ?? 'cancelling'} it`;
    } catch (err) {
      outcome = `CancelQuantumTask failed (${(err as Error).name}: ${(err as Error).message}); cancel it in the Braket console`;
    }
    this.run.log(`braket: task cancelled; quantum task ${arn}: ${outcome}`);
    throw new BackendError(this.config.name, `the task was cancelled; quantum task ${arn}: ${outcome}`, false);
  }
}

function cancelled(config: BraketConfig, when: string): BackendError {
  return new BackendError(config.name, `the task was cancelled ${when}`, false);
}
