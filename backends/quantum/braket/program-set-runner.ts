/**
 * Runs a batch of circuit tasks (the backend's batcher gathered them for `batchWindowMs`) on
 * Amazon Braket: where the device's capabilities list `braket.ir.openqasm.program_set`, they go
 * out as few program-set quantum tasks as its limits allow (program-set-builder.ts), each circuit
 * one executable; otherwise, or for a lone circuit, one quantum task per circuit as runOnBraket
 * does. Each circuit keeps its own outcome, log and info (`jobId` = the task ARN, `batchIndex` =
 * its executable's index, `batchSize`, its share of the cost `costUsd` and the set's `costOfJobUsd`).
 * A set is cancelled once every circuit in it was; a failed set fails each of its circuits with
 * Braket's reason. A circuit following a known set (`resumeJobId` = `<arn>#<index>`) reads its
 * executable's result when the set ends.
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
import type { CircuitOutcome } from '../batching/circuit-batcher.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../run-types.ts';
import { openAws, toBackendError, type AwsAccess } from './aws-access.ts';
import { checkDeviceArn, runOnBraket } from './braket-runner.ts';
import { DEFAULT_POLL_INTERVAL_MS, s3PrefixOf, type BraketConfig } from './config.ts';
import { checkDeviceFor, deviceFacts, PROGRAM_SET_ACTION, type DeviceFacts } from './device.ts';
import { deviceParametersFor, type BraketOptions } from './device-parameters.ts';
import { estimateCost, loadPriceTable } from './pricing.ts';
import { buildProgramSet, chunkForProgramSets } from './program-set-builder.ts';
import { executableOutcomes } from './program-set-results.ts';
import { clbitSources, countsFromResult } from './task-results.ts';

interface Member {
  readonly run: CircuitRun;
  readonly position: number;
}

/** One circuit waiting on a set: its executable's index and its reporter. */
interface Follower {
  readonly run: CircuitRun;
  readonly index: number;
  readonly report: (info: TaskInfo) => void;
}

/** Runs `runs` on the backend's Braket devices; one outcome per run, in order. */
export async function runBraketBatch(config: BraketConfig, runs: readonly CircuitRun[]): Promise<CircuitOutcome[]> {
  const outcomes: (CircuitOutcome | undefined)[] = runs.map((r) =>
    r.signal.aborted ? (r.signal.reason as Error) : undefined,
  );
  const settle = (m: Member, work: Promise<CircuitResult>) =>
    work.then(
      (r) => void (outcomes[m.position] = r),
      (err: Error) => void (outcomes[m.position] = err),
    );
  const byDevice = new Map<string, Member[]>();
  const waits: Promise<unknown>[] = [];
  for (const [position, run] of runs.entries()) {
    if (outcomes[position]) continue;
    const m = { run, position };
    if (run.resumeJobId)
      waits.push(settle(m, run.resumeJobId.includes('#') ? followAgain(config, run) : runOnBraket(config, run)));
    else {
      const device = run.device ?? config.deviceArn;
      byDevice.set(device, [...(byDevice.get(device) ?? []), m]);
    }
  }
  for (const [device, members] of byDevice) {
    const alone = (ms: readonly Member[]) => ms.map((m) => settle(m, runOnBraket(config, m.run)));
    if (members.length === 1) waits.push(...alone(members));
    else waits.push(runOnDevice(config, device, members, outcomes, alone));
  }
  await Promise.all(waits);
  return outcomes.map(
    (o) => o ?? new BackendError(config.name, 'the circuit got no result from its quantum task', true),
  );
}

/** Several circuits for one device: program sets where it lists them, else one task each. */
async function runOnDevice(
  config: BraketConfig,
  device: string,
  members: readonly Member[],
  outcomes: (CircuitOutcome | undefined)[],
  alone: (ms: readonly Member[]) => Promise<unknown>[],
): Promise<void> {
  let aws: AwsAccess | undefined;
  let facts: DeviceFacts;
  try {
    checkDeviceArn(config, device);
    aws = await openAws(config);
    facts = deviceFacts(await aws.braket.send(new GetDeviceCommand({ deviceArn: device })));
  } catch {
    aws?.close();
    // runOnBraket gives each circuit the same check's message (an unknown device, a wrong region).
    await Promise.all(alone(members));
    return;
  }
  try {
    if (!facts.programSet) {
      for (const m of members)
        m.run.log(`braket: ${device} lists no program sets (${PROGRAM_SET_ACTION}); one quantum task per circuit`);
      await Promise.all(alone(members));
      return;
    }
    const ready: Member[] = [];
    for (const m of members) {
      try {
        clbitSources(m.run.circuit);
        checkDeviceFor(config.name, facts, m.run.circuit.numQubits, m.run.shots);
        ready.push(m);
      } catch (err) {
        outcomes[m.position] = err instanceof BackendError ? err : new BackendError(config.name, String(err), false);
      }
    }
    const minimum = facts.programSet.minimumTotalShots ?? 0;
    await Promise.all(
      chunkForProgramSets(ready, facts.programSet).map((chunk) =>
        chunk.length === 1 || chunk.length * chunk[0]!.run.shots < minimum
          ? Promise.all(alone(chunk))
          : submitSet(config, aws!, device, facts, chunk).then(
              (done) => chunk.forEach((m, k) => void (outcomes[m.position] = done[k]!)),
              (err: Error) =>
                chunk.forEach(
                  (m) => void (outcomes[m.position] = m.run.signal.aborted ? (m.run.signal.reason as Error) : err),
                ),
            ),
      ),
    );
  } finally {
    aws.close();
  }
}

/** Per-run reporting: each run keeps its own accumulated info. */
function reporter(run: CircuitRun): (more: TaskInfo) => void {
  const info: TaskInfo = {};
  return (more) => {
    Object.assign(info, more);
    run.report({ ...info });
  };
}

/** Submits one program-set task for `members` and follows it to each member's outcome. */
async function submitSet(
  config: BraketConfig,
  aws: AwsAccess,
  device: string,
  facts: DeviceFacts,
  members: readonly Member[],
): Promise<CircuitOutcome[]> {
  const live = members.filter((m) => !m.run.signal.aborted);
  if (live.length === 0) return members.map((m) => m.run.signal.reason as Error);
  const { programs, indexOf } = buildProgramSet(live.map((m) => m.run));
  const shots = live[0]!.run.shots;
  const total = shots * live.length;
  const label = facts.name ? `${facts.name} (${device})` : device;
  const qubits = Math.max(...live.map((m) => m.run.circuit.numQubits));
  const options = live[0]!.run.braketOptions as BraketOptions | undefined;
  const deviceParameters = deviceParametersFor(config.name, label, facts.parametersSchema, qubits, options);
  const action = { braketSchemaHeader: { name: PROGRAM_SET_ACTION, version: '1' }, programs };
  let arn: string;
  try {
    const out = await aws.braket.send(
      new CreateQuantumTaskCommand({
        deviceArn: device,
        shots: total,
        action: JSON.stringify(action),
        outputS3Bucket: config.s3Bucket,
        outputS3KeyPrefix: s3PrefixOf(config),
        clientToken: randomUUID(),
        ...(deviceParameters !== undefined && { deviceParameters }),
        tags: { 'orrery-backend': config.name },
      }),
    );
    arn = out.quantumTaskArn!;
  } catch (err) {
    if ((err as Error)?.name === 'ValidationException')
      throw new BackendError(
        config.name,
        `CreateQuantumTask on ${device}: Braket rejected the program set of ${live.length} circuits (ValidationException: ${(err as Error).message})`,
        false,
      );
    throw toBackendError(config.name, aws, `CreateQuantumTask on ${device}`, err);
  }
  const estimate = estimateCost(loadPriceTable(), device, total);
  const followers: Follower[] = live.map((m, k) => {
    const report = reporter(m.run);
    report({
      jobId: arn,
      device,
      batchIndex: indexOf[k]!,
      batchSize: live.length,
      ...(estimate && {
        costUsd: Math.round((estimate.costUsd / live.length) * 1e6) / 1e6,
        costOfJobUsd: estimate.costUsd,
        costBasis: `${estimate.basis}, shared by the ${live.length} circuits of the program set`,
      }),
    });
    m.run.log(
      `braket: submitted program set ${arn} to ${device} (executable ${indexOf[k]} of ${live.length} in ${programs.length} program(s), ${shots} shots each${estimate ? `, set estimated $${estimate.costUsd.toFixed(4)}` : ''})`,
    );
    return { run: m.run, index: indexOf[k]!, report };
  });
  const done = await follow(config, aws, arn, device, followers);
  return members.map((m) => {
    const k = live.indexOf(m);
    return k < 0 ? (m.run.signal.reason as Error) : done[k]!;
  });
}

/** A circuit of a set submitted before the head restarted reads its executable's result again. */
async function followAgain(config: BraketConfig, run: CircuitRun): Promise<CircuitResult> {
  const [arn, indexText] = run.resumeJobId!.split('#');
  const index = Number(indexText);
  const aws = await openAws(config);
  try {
    const task = await aws.braket.send(new GetQuantumTaskCommand({ quantumTaskArn: arn! }));
    const device = task.deviceArn ?? run.device ?? config.deviceArn;
    const report = reporter(run);
    report({ jobId: arn!, device, batchIndex: index, resumed: true });
    run.log(`braket: following program set ${arn} (executable ${index}) again after a head restart`);
    const [outcome] = await follow(config, aws, arn!, device, [{ run, index, report }]);
    if (outcome instanceof Error) throw outcome;
    // A program-set executable is one circuit: its outcome is one result.
    return outcome as CircuitResult;
  } finally {
    aws.close();
  }
}

/**
 * Polls set `arn` until it ends and reads each follower's executable. The set is cancelled once
 * every follower was aborted; an aborted follower's outcome is its reason.
 */
async function follow(
  config: BraketConfig,
  aws: AwsAccess,
  arn: string,
  device: string,
  followers: readonly Follower[],
): Promise<CircuitOutcome[]> {
  const started = performance.now();
  const everyone = allAborted(followers.map((f) => f.run.signal));
  const live = () => followers.filter((f) => !f.run.signal.aborted);
  const base = config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  let last = '';
  let t: GetQuantumTaskCommandOutput;
  for (let wait = base; ; wait = Math.min(wait * 1.5, base * 10)) {
    try {
      await sleep(wait, undefined, { signal: everyone });
      t = await aws.braket.send(
        new GetQuantumTaskCommand({ quantumTaskArn: arn, additionalAttributeNames: ['QueueInfo'] }),
        { abortSignal: everyone },
      );
    } catch (err) {
      if (!everyone.aborted) throw toBackendError(config.name, aws, `GetQuantumTask ${arn}`, err);
      await cancelSet(aws, arn, followers);
      return followers.map((f) => f.run.signal.reason as Error);
    }
    const status = t.status ?? '';
    if (status !== last) {
      last = status;
      for (const f of live()) {
        f.run.log(`braket: program set ${arn} is ${status}`);
        const position = status === 'QUEUED' ? t.queueInfo?.position : undefined;
        f.report({ jobStatus: status, ...(position && /^\d+$/.test(position) && { queuePosition: Number(position) }) });
      }
    }
    if (['COMPLETED', 'FAILED', 'CANCELLED', 'CANCELLING'].includes(status)) break;
  }
  const fail = (message: string) =>
    followers.map((f) =>
      f.run.signal.aborted ? (f.run.signal.reason as Error) : new BackendError(config.name, message, false),
    );
  if (t.status === 'FAILED')
    return fail(`quantum task ${arn} failed on ${device}: ${t.failureReason ?? 'Braket gave no reason'}`);
  if (t.status !== 'COMPLETED')
    return fail(`quantum task ${arn} was cancelled outside Orrery (status ${t.status}); run the task again`);
  const dir = t.outputS3Directory!;
  const read = async (key: string) => {
    const object = await aws.s3.send(new GetObjectCommand({ Bucket: t.outputS3Bucket, Key: key }));
    return object.Body!.transformToString();
  };
  let executables: Awaited<ReturnType<typeof executableOutcomes>>;
  try {
    executables = await executableOutcomes(await read(`${dir}/results.json`), followers[0]!.run.shots, (rel) =>
      read(`${dir}/${rel}`),
    );
  } catch (err) {
    const why = (err as Error)?.name === 'BraketResultFormatError' ? (err as Error).message : String(err);
    return fail(`reading the results of quantum task ${arn} from s3://${t.outputS3Bucket}/${dir}: ${why}`);
  }
  return followers.map((f) => {
    if (f.run.signal.aborted) return f.run.signal.reason as Error;
    const e = executables[f.index];
    if (!e) return new BackendError(config.name, `quantum task ${arn} has no result for executable ${f.index}`, false);
    if ('failure' in e)
      return new BackendError(
        config.name,
        `quantum task ${arn}: executable ${f.index} failed on ${device}: ${e.failure}`,
        false,
      );
    try {
      const counts = countsFromResult(e.result, f.run.circuit);
      f.run.log(
        `braket: program set ${arn} completed; executable ${f.index} read from s3://${t.outputS3Bucket}/${dir}`,
      );
      return {
        counts,
        shots: f.run.shots,
        device,
        backend: config.name,
        durationMs: performance.now() - started,
        jobId: arn,
      };
    } catch (err) {
      return new BackendError(config.name, `quantum task ${arn}: ${(err as Error).message}`, false);
    }
  });
}

async function cancelSet(aws: AwsAccess, arn: string, followers: readonly Follower[]): Promise<void> {
  let outcome: string;
  try {
    const out = await aws.braket.send(new CancelQuantumTaskCommand({ quantumTaskArn: arn, clientToken: randomUUID() }));
    outcome = `Braket is ${out.cancellationStatus ?? 'cancelling'} it`;
  } catch (err) {
    outcome = `CancelQuantumTask failed (${(err as Error).name}: ${(err as Error).message}); cancel it in the Braket console`;
  }
  for (const f of followers) f.run.log(`braket: every circuit of program set ${arn} was cancelled; ${outcome}`);
}

/** A signal aborted once every one of `signals` is. */
function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  const all = new AbortController();
  const check = () => {
    if (signals.every((s) => s.aborted)) all.abort(signals[0]!.reason);
  };
  for (const s of signals) s.addEventListener('abort', check, { once: true });
  check();
  return all.signal;
}
