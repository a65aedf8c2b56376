/**
 * The SageMaker training-job API, JSON 1.1 (signing name `sagemaker`, `POST /` with
 * `X-Amz-Target: SageMaker.<Operation>`): CreateTrainingJob, DescribeTrainingJob,
 * StopTrainingJob, ListTrainingJobs. Errors are `{ __type, message }` with the real status codes.
 *
 * Jobs really run. The image is ignored: ContainerEntrypoint + ContainerArguments run as a host
 * process (tests pick programs the host has: sh, node). The container's file system is a temp
 * directory T standing for `/`: `/opt/ml` in arguments and Environment values is rewritten to
 * `T/opt/ml`, the process runs with T as its working directory, channels are downloaded from the
 * emulated S3 to `T/opt/ml/input/data/<channel>/`, and after the run `T/opt/ml/model` and
 * `T/opt/ml/output/data` are tarred (the system `tar`) to `<S3OutputPath>/<job>/output/model.tar.gz`
 * and `output.tar.gz`, as SageMaker does. Output lines go to CloudWatch Logs, group
 * `/aws/sagemaker/TrainingJobs`, stream `<job>/algo-1-<epoch seconds>`.
 *
 * Status: InProgress (Starting -> Downloading -> Training -> Uploading) -> Completed; a non-zero
 * exit is Failed with `AlgorithmError: <output/failure file>, exit code: N`; StopTrainingJob is
 * Stopping -> Stopped; MaxRuntimeInSeconds ends a job as Stopped / MaxRuntimeExceeded.
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { invalidRegion, type CloudWatchLogsEmulator } from './cloudwatch-logs.ts';
import {
  jsonAuthError,
  jsonError,
  jsonReply,
  type AuthFailure,
  type AwsReply,
  type AwsRequest,
  type AwsServiceModule,
} from './replies.ts';
import type { S3Emulator } from './s3.ts';

/** TrainingJobStatus values. */
export type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/** Options of the SageMaker module. */
export interface SageMakerEmulatorOptions {
  /** Regions it answers in (default us-east-1); others get the invalid-region error. */
  readonly regions?: readonly string[];
  /** Role ARNs that exist; default: any well-formed ARN. */
  readonly roles?: readonly string[];
  readonly accountId?: string;
  /** Time spent in each of Starting, Downloading and Uploading, ms (default 20). */
  readonly stepMs?: number;
  /** Fraction managed spot saves (BillableTimeInSeconds = training time x (1 - this)); default 0.7. */
  readonly spotSavings?: number;
}

/** A job as the emulator holds it. */
export interface EmulatedTrainingJob {
  readonly name: string;
  readonly arn: string;
  readonly request: Record<string, any>;
  readonly createdAt: number;
  status: JobStatus;
  secondary: string;
  transitions: { Status: string; StartTime: number; EndTime?: number; StatusMessage: string }[];
  failureReason?: string;
  trainingStart?: number;
  trainingEnd?: number;
  modelArtifacts?: string;
  process?: ChildProcess;
  stopReason?: 'Stopped' | 'MaxRuntimeExceeded';
  root?: string;
}

const TARGET = 'SageMaker.';
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/** The emulated SageMaker service plus its test controls. */
export class SageMakerEmulator implements AwsServiceModule {
  readonly signingName = 'sagemaker';
  readonly uriEscapePath = true;
  private readonly jobs = new Map<string, EmulatedTrainingJob>();
  private readonly regions: readonly string[];
  private readonly stepMs: number;
  private throttled = 0;
  /** The operation that throttling applies to (undefined: any). */
  private throttledOp: string | undefined;
  private limited = 0;
  private closed = false;
  /** Every operation called, e.g. `CreateTrainingJob name`, including refused ones. */
  readonly calls: string[] = [];

  constructor(
    private readonly s3: S3Emulator,
    private readonly logs: CloudWatchLogsEmulator,
    private readonly options: SageMakerEmulatorOptions = {},
  ) {
    this.regions = options.regions ?? ['us-east-1'];
    this.stepMs = options.stepMs ?? 20;
  }

  /** The next `n` calls of `op` (default: any operation) fail with ThrottlingException. */
  throttleNext(n: number, op?: string): void {
    this.throttled = n;
    this.throttledOp = op;
  }

  /** The next `n` CreateTrainingJob calls fail with ResourceLimitExceeded. */
  limitNext(n: number): void {
    this.limited = n;
  }

  /** A job by name (for tests). */
  job(name: string): EmulatedTrainingJob | undefined {
    return this.jobs.get(name);
  }

  /** All jobs, oldest first. */
  allJobs(): EmulatedTrainingJob[] {
    return [...this.jobs.values()];
  }

  /** Kills running processes and removes work directories. */
  close(): void {
    this.closed = true;
    for (const j of this.jobs.values()) {
      if (j.process && j.process.exitCode === null) killGroup(j.process, 'SIGKILL');
      if (j.root) rmSync(j.root, { recursive: true, force: true });
    }
  }

  authError(failure: AuthFailure): AwsReply {
    return jsonAuthError(failure);
  }

  handle(req: AwsRequest): AwsReply {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || !target.startsWith(TARGET))
      return jsonError(400, 'UnknownOperationException', `unknown operation ${target || '(no X-Amz-Target)'}`);
    if (!this.regions.includes(req.region)) return invalidRegion(req.region);
    const op = target.slice(TARGET.length);
    let body: Record<string, any>;
    try {
      body = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, any>;
    } catch {
      return jsonError(400, 'SerializationException', 'the request body is not JSON');
    }
    this.calls.push(`${op} ${String(body.TrainingJobName ?? '')}`.trim());
    if (this.throttled > 0 && (this.throttledOp === undefined || this.throttledOp === op)) {
      this.throttled--;
      return jsonError(400, 'ThrottlingException', 'Rate exceeded');
    }
    switch (op) {
      case 'CreateTrainingJob':
        return this.create(body, req.region);
      case 'DescribeTrainingJob':
        return this.withJob(body, (j) => jsonReply(200, this.describe(j)));
      case 'StopTrainingJob':
        return this.withJob(body, (j) => this.stop(j));
      case 'ListTrainingJobs':
        return this.list(body);
      default:
        return jsonError(400, 'UnknownOperationException', `operation ${op} is not emulated`);
    }
  }

  private withJob(body: Record<string, any>, f: (j: EmulatedTrainingJob) => AwsReply): AwsReply {
    const j = this.jobs.get(String(body.TrainingJobName ?? ''));
    if (!j)
      return jsonError(
        400,
        'ValidationException',
        `Requested resource not found: Training job ${String(body.TrainingJobName)} does not exist.`,
      );
    return f(j);
  }

  private create(b: Record<string, any>, region: string): AwsReply {
    const invalid = (m: string) => jsonError(400, 'ValidationException', m);
    const name = b.TrainingJobName;
    if (typeof name !== 'string')
      return invalid(
        "1 validation error detected: Value null at 'trainingJobName' failed to satisfy constraint: Member must not be null",
      );
    if (!JOB_NAME.test(name))
      return invalid(
        `1 validation error detected: Value '${name}' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
      );
    if (typeof b.RoleArn !== 'string')
      return invalid(
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
      );
    if (!ROLE_ARN.test(b.RoleArn))
      return invalid(
        `1 validation error detected: Value '${b.RoleArn}' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$`,
      );
    if (this.options.roles && !this.options.roles.includes(b.RoleArn)) {
      return invalid(
        `Could not assume role ${b.RoleArn}. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.`,
      );
    }
    const algo = b.AlgorithmSpecification;
    if (!algo?.TrainingImage)
      return invalid(
        "1 validation error detected: Value null at 'algorithmSpecification.trainingImage' failed to satisfy constraint: Member must not be null",
      );
    if (!Array.isArray(algo.ContainerEntrypoint) || algo.ContainerEntrypoint.length === 0)
      return invalid('the emulator runs ContainerEntrypoint as a host process; give one');
    if (!b.ResourceConfig?.InstanceType || !(b.ResourceConfig?.InstanceCount >= 1))
      return invalid(
        "1 validation error detected: Value null at 'resourceConfig.instanceType' failed to satisfy constraint: Member must not be null",
      );
    if (!b.OutputDataConfig?.S3OutputPath)
      return invalid(
        "1 validation error detected: Value null at 'outputDataConfig.s3OutputPath' failed to satisfy constraint: Member must not be null",
      );
    const stopping = b.StoppingCondition ?? {};
    if (b.EnableManagedSpotTraining && !(stopping.MaxWaitTimeInSeconds >= (stopping.MaxRuntimeInSeconds ?? 86400))) {
      return invalid(
        'Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to MaxRuntimeInSeconds',
      );
    }
    if (this.jobs.has(name))
      return jsonError(
        400,
        'ResourceInUse',
        'Training job names must be unique within an AWS Region in an AWS account.',
      );
    if (this.limited > 0) {
      this.limited--;
      return jsonError(
        400,
        'ResourceLimitExceeded',
        `The account-level service limit '${b.ResourceConfig.InstanceType} for training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of ${b.ResourceConfig.InstanceCount} Instances. Please use AWS Service Quotas to request an increase for this quota.`,
      );
    }
    const now = Date.now();
    const job: EmulatedTrainingJob = {
      name,
      arn: `arn:aws:sagemaker:${region}:${this.options.accountId ?? '123456789012'}:training-job/${name.toLowerCase()}`,
      request: b,
      createdAt: now,
      status: 'InProgress',
      secondary: 'Starting',
      transitions: [{ Status: 'Starting', StartTime: now, StatusMessage: 'Preparing the instances for training' }],
    };
    this.jobs.set(name, job);
    void this.run(job).catch((err: Error) =>
      this.end(job, 'Failed', 'Failed', `InternalServerError: emulator: ${err.message}`),
    );
    return jsonReply(200, { TrainingJobArn: job.arn });
  }

  private describe(j: EmulatedTrainingJob): Record<string, unknown> {
    const r = j.request;
    const trainingSeconds =
      j.trainingStart !== undefined && j.trainingEnd !== undefined
        ? Math.max(1, Math.ceil((j.trainingEnd - j.trainingStart) / 1000))
        : undefined;
    const billable =
      trainingSeconds === undefined
        ? undefined
        : r.EnableManagedSpotTraining
          ? Math.max(1, Math.ceil(trainingSeconds * (1 - (this.options.spotSavings ?? 0.7))))
          : trainingSeconds;
    const s = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
    return {
      TrainingJobName: j.name,
      TrainingJobArn: j.arn,
      ModelArtifacts: { S3ModelArtifacts: j.modelArtifacts ?? '' },
      TrainingJobStatus: j.status,
      SecondaryStatus: j.secondary,
      ...(j.failureReason ? { FailureReason: j.failureReason } : {}),
      AlgorithmSpecification: r.AlgorithmSpecification,
      RoleArn: r.RoleArn,
      ...(r.InputDataConfig ? { InputDataConfig: r.InputDataConfig } : {}),
      OutputDataConfig: r.OutputDataConfig,
      ResourceConfig: r.ResourceConfig,
      StoppingCondition: r.StoppingCondition ?? { MaxRuntimeInSeconds: 86400 },
      ...(r.Environment ? { Environment: r.Environment } : {}),
      EnableManagedSpotTraining: r.EnableManagedSpotTraining === true,
      ...(r.CheckpointConfig ? { CheckpointConfig: r.CheckpointConfig } : {}),
      CreationTime: s(j.createdAt),
      LastModifiedTime: s(j.transitions.at(-1)!.StartTime),
      ...(j.trainingStart !== undefined ? { TrainingStartTime: s(j.trainingStart) } : {}),
      ...(j.trainingEnd !== undefined
        ? { TrainingEndTime: s(j.trainingEnd), TrainingTimeInSeconds: trainingSeconds, BillableTimeInSeconds: billable }
        : {}),
      SecondaryStatusTransitions: j.transitions.map((t) => ({
        Status: t.Status,
        StartTime: s(t.StartTime),
        ...(t.EndTime ? { EndTime: s(t.EndTime) } : {}),
        StatusMessage: t.StatusMessage,
      })),
    };
  }

  private stop(j: EmulatedTrainingJob): AwsReply {
    if (j.status !== 'InProgress')
      return jsonError(
        400,
        'ValidationException',
        `The request was rejected because the training job is in status ${j.status}.`,
      );
    j.stopReason = 'Stopped';
    this.transition(j, 'Stopping', 'Stopping the training job');
    j.status = 'Stopping';
    if (j.process && j.process.exitCode === null) killGroup(j.process, 'SIGTERM');
    return jsonReply(200, {});
  }

  private list(b: Record<string, any>): AwsReply {
    let all = [...this.jobs.values()];
    if (typeof b.NameContains === 'string')
      all = all.filter((j) => j.name.toLowerCase().includes(b.NameContains.toLowerCase()));
    if (typeof b.StatusEquals === 'string') all = all.filter((j) => j.status === b.StatusEquals);
    all.sort((a, c) => (b.SortBy === 'Name' ? (a.name < c.name ? -1 : 1) : a.createdAt - c.createdAt));
    if (b.SortOrder !== 'Ascending') all.reverse();
    const start = typeof b.NextToken === 'string' ? Number(b.NextToken) : 0;
    const max = typeof b.MaxResults === 'number' ? b.MaxResults : 10;
    const page = all.slice(start, start + max);
    return jsonReply(200, {
      TrainingJobSummaries: page.map((j) => ({
        TrainingJobName: j.name,
        TrainingJobArn: j.arn,
        CreationTime: j.createdAt / 1000,
        TrainingJobStatus: j.status,
        ...(j.trainingEnd !== undefined ? { TrainingEndTime: j.trainingEnd / 1000 } : {}),
        LastModifiedTime: j.transitions.at(-1)!.StartTime / 1000,
      })),
      ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
    });
  }

  private transition(j: EmulatedTrainingJob, status: string, message: string): void {
    const now = Date.now();
    const last = j.transitions.at(-1);
    if (last && last.EndTime === undefined) last.EndTime = now;
    j.transitions.push({ Status: status, StartTime: now, StatusMessage: message });
    j.secondary = status;
  }

  private end(
    j: EmulatedTrainingJob,
    status: 'Completed' | 'Failed' | 'Stopped',
    secondary: string,
    failureReason?: string,
  ): void {
    if (j.status === 'Completed' || j.status === 'Failed' || j.status === 'Stopped') return;
    this.transition(j, secondary, failureReason ?? `Training job ${status.toLowerCase()}`);
    j.transitions.at(-1)!.EndTime = Date.now();
    j.status = status;
    if (failureReason) j.failureReason = failureReason;
    if (j.root) rmSync(j.root, { recursive: true, force: true });
  }

  /** Whether the job was told to stop (or the emulator is closing). */
  private stoppedEarly(j: EmulatedTrainingJob): boolean {
    return j.stopReason !== undefined || this.closed;
  }

  /** Starting -> Downloading -> Training -> Uploading -> Completed, or an early end. */
  private async run(j: EmulatedTrainingJob): Promise<void> {
    const r = j.request;
    await delay(this.stepMs);
    if (this.stoppedEarly(j)) return this.end(j, 'Stopped', 'Stopped');
    this.transition(j, 'Downloading', 'Downloading input data');
    const root = (j.root = mkdtempSync(join(tmpdir(), 'sagemaker-emu-')));
    const ml = join(root, 'opt/ml');
    for (const d of ['model', 'output/data', 'input/config', 'code', 'checkpoints'])
      mkdirSync(join(ml, d), { recursive: true });
    for (const channel of (r.InputDataConfig ?? []) as Record<string, any>[]) {
      const problem = this.download(channel, join(ml, 'input/data', String(channel.ChannelName)));
      if (problem) return this.end(j, 'Failed', 'Failed', `ClientError: Data download failed:${problem}`);
    }
    writeFileSync(
      join(ml, 'input/config/resourceconfig.json'),
      JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'] }),
    );
    await delay(this.stepMs);
    if (this.stoppedEarly(j)) return this.end(j, 'Stopped', 'Stopped');
    this.transition(j, 'Training', 'Training image download completed. Training in progress.');
    const code = await this.train(j, root);
    j.trainingEnd = Date.now();
    if (j.stopReason === 'MaxRuntimeExceeded') return this.end(j, 'Stopped', 'MaxRuntimeExceeded');
    if (this.stoppedEarly(j)) return this.end(j, 'Stopped', 'Stopped');
    if (code.exit !== 0) {
      const failure = existsSync(join(ml, 'output/failure'))
        ? readFileSync(join(ml, 'output/failure'), 'utf8').trim().slice(0, 1024)
        : (code.error ?? '');
      return this.end(j, 'Failed', 'Failed', `AlgorithmError: ${failure}, exit code: ${code.exit}`);
    }
    this.transition(j, 'Uploading', 'Uploading generated training model');
    const out = /^s3:\/\/([^/]+)\/?(.*)$/.exec(String(r.OutputDataConfig.S3OutputPath))!;
    const bucket = out[1]!;
    const dir = [out[2]!.replace(/\/+$/, ''), j.name, 'output'].filter(Boolean).join('/');
    if (!this.s3.hasBucket(bucket))
      return this.end(
        j,
        'Failed',
        'Failed',
        `ClientError: Unable to upload the model artifacts: the S3 bucket ${bucket} does not exist`,
      );
    this.s3.putObject(bucket, `${dir}/model.tar.gz`, tarGz(join(ml, 'model')), 'application/x-tar');
    this.s3.putObject(bucket, `${dir}/output.tar.gz`, tarGz(join(ml, 'output/data')), 'application/x-tar');
    j.modelArtifacts = `s3://${bucket}/${dir}/model.tar.gz`;
    await delay(this.stepMs);
    this.end(j, 'Completed', 'Completed');
  }

  /** Downloads one S3Prefix channel; returns what went wrong, as SageMaker words it. */
  private download(channel: Record<string, any>, into: string): string | undefined {
    const src = channel.DataSource?.S3DataSource;
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(String(src?.S3Uri ?? ''));
    if (!m || src.S3DataType !== 'S3Prefix')
      return ` the emulator supports S3Prefix channels only (channel ${channel.ChannelName})`;
    const [, bucket, prefix] = m as unknown as [string, string, string];
    const keys = this.s3.hasBucket(bucket) ? this.s3.listKeys(bucket, prefix) : [];
    if (keys.length === 0)
      return ` No S3 objects found under S3 URL "${src.S3Uri}" given in input data source. Please ensure that the bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, and that the role has "s3:ListBucket" permissions on bucket "${bucket}".`;
    for (const key of keys) {
      const rel = key.slice(prefix.length).replace(/^\/+/, '');
      const file = join(into, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, this.s3.getObject(bucket, key)!.body);
    }
    return undefined;
  }

  /** Runs the entrypoint with its output going to the job's log stream; resolves with its exit code. */
  private train(j: EmulatedTrainingJob, root: string): Promise<{ exit: number; error?: string }> {
    const r = j.request;
    const container = (s: string) => s.replace(/(^|[=:\s])\/opt\/ml(?=\/|$|[\s:])/g, `$1${root}/opt/ml`);
    const entry = (r.AlgorithmSpecification.ContainerEntrypoint as string[]).map(container);
    const args = ((r.AlgorithmSpecification.ContainerArguments ?? []) as string[]).map(container);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      LANG: 'C.UTF-8',
      TRAINING_JOB_NAME: j.name,
      TRAINING_JOB_ARN: j.arn,
    };
    for (const [k, v] of Object.entries((r.Environment ?? {}) as Record<string, string>)) env[k] = container(v);
    const stream = `${j.name}/algo-1-${Math.floor(Date.now() / 1000)}`;
    const emit = (line: string) => this.logs.append(LOG_GROUP, stream, line);
    j.trainingStart = Date.now();
    return new Promise((resolve) => {
      const [program, ...pre] = [...entry, ...args];
      const child = spawn(program!, pre, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      j.process = child;
      for (const s of [child.stdout, child.stderr]) {
        let partial = '';
        s.setEncoding('utf8').on('data', (t: string) => {
          const lines = (partial + t).split('\n');
          partial = lines.pop()!;
          for (const l of lines) emit(l);
        });
        s.on('end', () => partial && emit(partial));
      }
      const maxMs = (r.StoppingCondition?.MaxRuntimeInSeconds ?? 86400) * 1000;
      const timer = setTimeout(() => {
        j.stopReason = 'MaxRuntimeExceeded';
        killGroup(child, 'SIGKILL');
      }, maxMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        emit(`exec: "${program}": ${err.message}`);
        resolve({ exit: 127, error: `exec: "${program}": executable file not found in $PATH` });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ exit: code ?? (signal ? 137 : 1) });
      });
    });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

/** A gzipped tar of a directory's contents, as SageMaker uploads model and output data. */
function tarGz(dir: string): Buffer {
  const r = spawnSync('tar', ['-czf', '-', '-C', dir, '.'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
  return r.stdout;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
