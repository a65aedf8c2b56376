/**
 * The worker side of a command task on a sagemaker node (the module ORRERY_COMMAND_RUNNER names):
 * one task becomes one training job. Inputs are staged in S3 (s3-staging.ts), the job created
 * with the command as its container entrypoint, its status polled with backoff and its log
 * followed in CloudWatch Logs, and the declared outputs read back from the archives SageMaker
 * makes of /opt/ml/model and /opt/ml/output/data.
 *
 * Inside the container: inputs are under /opt/ml/input/data/inputs/<relative path> (also in
 * ORRERY_INPUT_DIR); an argv element naming an input by its relative path (`data/x.csv`,
 * `--data=data/x.csv`) is rewritten to that absolute path. Files written to /opt/ml/model
 * (ORRERY_MODEL_DIR) come back as `model/<path>`, files in /opt/ml/output/data (ORRERY_OUTPUT_DIR)
 * as `output/<path>`; `outputs` globs match those names. CloudWatch merges the container's
 * stdout and stderr, so the result's `stdout` holds the merged log and `stderr` is empty.
 */
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  StopTrainingJobCommand,
  type CreateTrainingJobRequest,
  type DescribeTrainingJobResponse,
} from '@aws-sdk/client-sagemaker';
import { BackendError, CommandFailedError } from '../../orchestrator/core/errors.ts';
import { DEFAULT_RETRY, openAws, toBackendError, withRetries, type AwsAccess, type RetryPolicy } from './aws-access.ts';
import { TrainingLogTail } from './cloudwatch-logs.ts';
import { parseS3Uri, type SageMakerConfig } from './config.ts';
import { estimateJobCost, loadInstanceTable } from './instance-types.ts';
import { trainingJobName } from './job-name.ts';
import { CONTAINER_PATHS, INPUT_CHANNEL, checkInputPath, keyUnder, readJobOutputs, stageInputs } from './s3-staging.ts';

/** The environment variable a sagemaker node's workers read the backend's config from. */
export const SAGEMAKER_CONFIG_ENV = 'ORRERY_SAGEMAKER_BACKEND';

/** A command call with its inputs already resolved to bytes or text. */
export interface CommandJobCall {
  readonly argv: readonly string[];
  readonly inputs?: Readonly<Record<string, Uint8Array | string>>;
  readonly env?: Readonly<Record<string, string>>;
}

/** The command's options that matter to a job. */
export interface CommandJobSpec {
  readonly outputs: readonly string[];
  readonly image?: string;
}

/** What the running task lends the runner. */
export interface CommandJobHooks {
  readonly signal: AbortSignal;
  /** Task facts (job id, status, billable seconds, cost): `recordTaskInfo`. */
  report(info: Record<string, string | number | boolean>): void;
  /** A line of the task's log. */
  log(line: string): void;
  /** The task, for the job name. */
  readonly task?: { readonly id: string; readonly name: string };
  /** Attach to this existing job instead of creating one (a resumed head). */
  readonly resumeJobId?: string;
  /** Reserves the job's estimated cost against the head's budgets before it is created (rejects with BudgetExceededError). */
  reserve?(estimateUsd: number, what: string): Promise<void>;
}

/** What a finished command returns (CommandResult of orchestrator/api/command-types.ts). */
export interface CommandJobResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  files: Record<string, Uint8Array>;
  durationMs: number;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);
/** How long a stop may take before the runner gives up waiting (SageMaker allows 120 s for SIGTERM). */
const STOP_WAIT_MS = 10 * 60_000;

/** Runs one command as a SageMaker training job (the ORRERY_COMMAND_RUNNER entry point). */
export async function runCommandJob(
  call: CommandJobCall,
  spec: CommandJobSpec,
  hooks: CommandJobHooks,
): Promise<CommandJobResult> {
  const raw = process.env[SAGEMAKER_CONFIG_ENV];
  if (!raw) throw new BackendError('sagemaker', 'this worker was not started by a sagemaker backend', false);
  const config = JSON.parse(raw) as SageMakerConfig;
  if (!spec.image) {
    throw new BackendError(
      config.name,
      `command ${call.argv[0]} has no image: SageMaker runs containers, so give command({ image: '<ECR image URI>' }), or place the task on another backend`,
      false,
    );
  }
  const access = await openAws(config);
  try {
    return await new TrainingJobRun(config, access, call, { ...spec, image: spec.image }, hooks).run();
  } finally {
    access.close();
  }
}

/** One task's job, from staging to results. */
class TrainingJobRun {
  private readonly started = performance.now();
  private readonly retry: RetryPolicy;
  private readonly jobName: string;
  private readonly tail: TrainingLogTail;
  private secondary = '';

  constructor(
    private readonly config: SageMakerConfig,
    private readonly aws: AwsAccess,
    private readonly call: CommandJobCall,
    private readonly spec: CommandJobSpec & { image: string },
    private readonly hooks: CommandJobHooks,
  ) {
    this.retry = {
      ...DEFAULT_RETRY,
      baseMs: Math.min(DEFAULT_RETRY.baseMs, config.pollIntervalMs ?? DEFAULT_RETRY.baseMs),
    };
    const task = hooks.task ?? { id: Date.now().toString(36), name: call.argv[0]!.split('/').pop() || 'command' };
    this.jobName = hooks.resumeJobId ?? trainingJobName(task.name, task.id);
    this.tail = new TrainingLogTail(aws.logs, this.jobName, (line) => hooks.log(line));
  }

  async run(): Promise<CommandJobResult> {
    const { hooks } = this;
    if (!hooks.resumeJobId) await this.create();
    else hooks.log(`sagemaker: reattaching to training job ${this.jobName}`);
    const final = await this.follow();
    await this.tail
      .poll()
      .catch((err: Error) =>
        hooks.log(`sagemaker: could not read the last log lines of ${this.jobName}: ${err.message}`),
      );
    this.reportBilling(final);
    if (hooks.signal.aborted) throw hooks.signal.reason;
    if (final.TrainingJobStatus === 'Failed') throw this.failure(final);
    if (final.TrainingJobStatus === 'Stopped') {
      throw new BackendError(
        this.config.name,
        `training job ${this.jobName} was stopped (${final.SecondaryStatus ?? 'Stopped'}) by something other than this task${final.SecondaryStatus === 'MaxRuntimeExceeded' ? '; raise maxRuntimeS' : ''}`,
        false,
      );
    }
    const files = await this.outputs(final);
    return { exitCode: 0, stdout: this.tail.text, stderr: '', files, durationMs: performance.now() - this.started };
  }

  /** Stages the inputs and creates the job (retrying throttling and ResourceLimitExceeded). */
  private async create(): Promise<void> {
    const { config, hooks, call } = this;
    // The most the job can cost: its instances for maxRuntimeS (SageMaker stops it then).
    const count = config.instanceCount ?? 1;
    const worst = estimateJobCost(loadInstanceTable(), config.instanceType, count, config.maxRuntimeS ?? 86400);
    if (worst) await hooks.reserve?.(worst.costUsd, `SageMaker training job ${this.jobName} (${worst.basis})`);
    const loc = parseS3Uri(config.s3Prefix)!;
    const inputs = call.inputs ?? {};
    const staged = await stageInputs(this.aws.s3, loc, this.jobName, inputs, hooks.signal).catch((err: unknown) => {
      if (hooks.signal.aborted) throw hooks.signal.reason;
      throw toBackendError(config, this.aws.credentialSource, `uploading inputs to ${config.s3Prefix}`, err);
    });
    if (staged) hooks.log(`sagemaker: ${staged.uploaded} input(s) uploaded, ${staged.reused} already in S3`);
    const request = buildCreateRequest(
      config,
      this.jobName,
      call,
      this.spec.image,
      staged?.channelUri,
      hooks.task?.id ?? this.jobName,
    );
    const res = await withRetries(
      () => this.aws.sagemaker.send(new CreateTrainingJobCommand(request), { abortSignal: hooks.signal }),
      this.retry,
      (err, ms) =>
        hooks.log(`sagemaker: CreateTrainingJob ${this.jobName}: ${(err as Error).name}; trying again in ${ms} ms`),
      hooks.signal,
    ).catch((err: unknown) => {
      if (hooks.signal.aborted) throw hooks.signal.reason;
      throw toBackendError(
        config,
        this.aws.credentialSource,
        `CreateTrainingJob ${this.jobName}`,
        err,
        this.retry.attempts,
      );
    });
    hooks.report({ jobId: this.jobName, jobArn: res.TrainingJobArn ?? '', instanceType: config.instanceType });
    hooks.log(
      `sagemaker: created training job ${this.jobName} (${config.instanceCount ?? 1} x ${config.instanceType}, image ${this.spec.image}) in ${config.region}`,
    );
  }

  /** Polls until the job ends; an abort stops the job and waits for it to be Stopped. */
  private async follow(): Promise<DescribeTrainingJobResponse> {
    const { hooks } = this;
    const interval = this.config.pollIntervalMs ?? 10_000;
    let stopAsked = false;
    let stopDeadline = Infinity;
    for (;;) {
      if (hooks.signal.aborted && !stopAsked) {
        stopAsked = true;
        stopDeadline = Date.now() + STOP_WAIT_MS;
        await this.stop();
      }
      const d = await this.describe();
      this.noteStatus(d);
      await this.tail
        .poll()
        .catch((err: Error) =>
          hooks.log(`sagemaker: reading the log of ${this.jobName} failed (${err.name}); will retry`),
        );
      if (TERMINAL.has(d.TrainingJobStatus ?? '')) return d;
      if (Date.now() > stopDeadline)
        throw new BackendError(
          this.config.name,
          `training job ${this.jobName} did not stop within ${STOP_WAIT_MS / 1000} s; check it in the SageMaker console`,
          true,
        );
      await sleep(interval, stopAsked ? undefined : hooks.signal);
    }
  }

  private async stop(): Promise<void> {
    this.hooks.log(`sagemaker: cancelled; stopping training job ${this.jobName}`);
    await withRetries(
      () => this.aws.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: this.jobName })),
      this.retry,
    ).catch((err: unknown) => {
      // A job that already ended cannot be stopped; the next describe says how it ended.
      if ((err as { name?: string }).name !== 'ValidationException')
        throw toBackendError(
          this.config,
          this.aws.credentialSource,
          `StopTrainingJob ${this.jobName}`,
          err,
          this.retry.attempts,
        );
    });
  }

  private describe(): Promise<DescribeTrainingJobResponse> {
    return withRetries(
      () => this.aws.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: this.jobName })),
      this.retry,
      (err, ms) =>
        this.hooks.log(
          `sagemaker: DescribeTrainingJob ${this.jobName}: ${(err as Error).name}; trying again in ${ms} ms`,
        ),
    ).catch((err: unknown) => {
      throw toBackendError(
        this.config,
        this.aws.credentialSource,
        `DescribeTrainingJob ${this.jobName}`,
        err,
        this.retry.attempts,
      );
    });
  }

  /** Logs and reports each new SecondaryStatus (Starting, Downloading, Training, Uploading, ...). */
  private noteStatus(d: DescribeTrainingJobResponse): void {
    const s = d.SecondaryStatus ?? d.TrainingJobStatus ?? '';
    if (s === this.secondary) return;
    this.secondary = s;
    const transitions = d.SecondaryStatusTransitions ?? [];
    const message = transitions.find((t) => t.Status === s)?.StatusMessage;
    this.hooks.log(`sagemaker: ${this.jobName}: ${s}${message ? ` - ${message}` : ''}`);
    this.hooks.report({ secondaryStatus: s, status: d.TrainingJobStatus ?? '' });
  }

  /** A failed job: the container's non-zero exit is the command failing; anything else is the backend's. */
  private failure(d: DescribeTrainingJobResponse): Error {
    const reason = d.FailureReason ?? 'no FailureReason given';
    if (/^AlgorithmError/.test(reason)) {
      const code = /exit code:?\s*(-?\d+)/i.exec(reason);
      const tail = this.tail.tail() || reason;
      return new CommandFailedError(code ? Number(code[1]) : 1, tail, this.call.argv);
    }
    const retryable = /^(InternalServerError|CapacityError)/.test(reason);
    return new BackendError(this.config.name, `training job ${this.jobName} failed: ${reason}`, retryable);
  }

  private reportBilling(d: DescribeTrainingJobResponse): void {
    const billable = d.BillableTimeInSeconds;
    if (billable === undefined) return;
    const count = d.ResourceConfig?.InstanceCount ?? this.config.instanceCount ?? 1;
    const cost = estimateJobCost(
      loadInstanceTable(),
      d.ResourceConfig?.InstanceType ?? this.config.instanceType,
      count,
      billable,
      d.EnableManagedSpotTraining ? d.TrainingTimeInSeconds : undefined,
    );
    const info: Record<string, number> = { billableSeconds: billable };
    if (d.TrainingTimeInSeconds !== undefined) info.trainingSeconds = d.TrainingTimeInSeconds;
    if (cost) {
      info.costUsd = cost.costUsd;
      if (cost.spotSavings !== undefined) info.spotSavings = cost.spotSavings;
      this.hooks.log(`sagemaker: ${this.jobName}: estimated cost $${cost.costUsd.toFixed(4)} (${cost.basis})`);
    }
    this.hooks.report(info);
  }

  private async outputs(d: DescribeTrainingJobResponse): Promise<Record<string, Uint8Array>> {
    // File names come from the job's archives: no prototype, so `__proto__` is a file like any other.
    const files: Record<string, Uint8Array> = Object.create(null);
    if (this.spec.outputs.length === 0) return files;
    const uri = d.ModelArtifacts?.S3ModelArtifacts;
    if (!uri) return files;
    const all = await readJobOutputs(this.aws.s3, uri).catch((err: unknown) => {
      throw toBackendError(
        this.config,
        this.aws.credentialSource,
        `reading the outputs of ${this.jobName} from ${uri}`,
        err,
      );
    });
    const patterns = this.spec.outputs.map(globToRegExp);
    for (const [rel, data] of all) if (patterns.some((p) => p.test(rel))) files[rel] = data;
    return files;
  }
}

/** The CreateTrainingJob request of one command (exported for tests). */
export function buildCreateRequest(
  config: SageMakerConfig,
  jobName: string,
  call: CommandJobCall,
  image: string,
  channelUri: string | undefined,
  taskId: string,
): CreateTrainingJobRequest {
  const loc = parseS3Uri(config.s3Prefix)!;
  const maxRuntime = config.maxRuntimeS ?? 86400;
  const spot = config.spot === true ? {} : config.spot || undefined;
  const inputPaths = new Set(Object.keys(call.inputs ?? {}).map(checkInputPath));
  const argv = call.argv.map((a, i) => (i === 0 ? a : containerArg(a, inputPaths)));
  return {
    TrainingJobName: jobName,
    RoleArn: config.roleArn,
    AlgorithmSpecification: {
      TrainingImage: image,
      TrainingInputMode: 'File',
      ContainerEntrypoint: [argv[0]!],
      ContainerArguments: argv.length > 1 ? argv.slice(1) : undefined,
    },
    Environment: jobEnvironment(config.name, call.env ?? {}),
    ResourceConfig: {
      InstanceType: config.instanceType as never,
      InstanceCount: config.instanceCount ?? 1,
      VolumeSizeInGB: config.volumeSizeGb ?? 30,
    },
    StoppingCondition: {
      MaxRuntimeInSeconds: maxRuntime,
      ...(spot ? { MaxWaitTimeInSeconds: spot.maxWaitS ?? maxRuntime } : {}),
    },
    OutputDataConfig: { S3OutputPath: `s3://${loc.bucket}/${loc.prefix}` },
    ...(channelUri
      ? {
          InputDataConfig: [
            {
              ChannelName: INPUT_CHANNEL,
              DataSource: {
                S3DataSource: { S3DataType: 'S3Prefix', S3Uri: channelUri, S3DataDistributionType: 'FullyReplicated' },
              },
            },
          ],
        }
      : {}),
    ...(spot
      ? {
          EnableManagedSpotTraining: true,
          CheckpointConfig: {
            S3Uri:
              spot.checkpointS3Uri ??
              `s3://${loc.bucket}/${keyUnder(loc, `checkpoints/${taskId.replace(/[^A-Za-z0-9._-]/g, '-')}`)}`,
          },
        }
      : {}),
    Tags: [{ Key: 'orrery:task', Value: taskId.slice(0, 256) }],
  };
}

/** An argument that names an input (`data/x.csv`, `./data/x.csv`, `--data=data/x.csv`) -> its container path. */
function containerArg(arg: string, inputs: ReadonlySet<string>): string {
  const asInput = (s: string) => {
    const rel = s.replace(/^\.\//, '');
    return inputs.has(rel) ? `${CONTAINER_PATHS.input}/${rel}` : undefined;
  };
  const whole = asInput(arg);
  if (whole) return whole;
  const eq = arg.indexOf('=');
  if (eq > 0 && arg.startsWith('-')) {
    const v = asInput(arg.slice(eq + 1));
    if (v) return `${arg.slice(0, eq + 1)}${v}`;
  }
  return arg;
}

/** The job's Environment: the call's env plus where inputs and outputs live, within SageMaker's limits. */
function jobEnvironment(backend: string, env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {
    ...env,
    ORRERY_INPUT_DIR: CONTAINER_PATHS.input,
    ORRERY_MODEL_DIR: CONTAINER_PATHS.model,
    ORRERY_OUTPUT_DIR: CONTAINER_PATHS.output,
  };
  if (Object.keys(out).length > 100)
    throw new BackendError(
      backend,
      `a training job takes at most 100 environment variables; this command sets ${Object.keys(out).length} (3 are Orrery's)`,
      false,
    );
  for (const [k, v] of Object.entries(out)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,511}$/.test(k))
      throw new BackendError(
        backend,
        `environment variable name ${JSON.stringify(k)} is not allowed by SageMaker (letters, digits and _, not starting with a digit)`,
        false,
      );
    if (v.length > 512)
      throw new BackendError(
        backend,
        `environment variable ${k} is ${v.length} characters; SageMaker allows 512. Pass large values as an input file`,
        false,
      );
  }
  return out;
}

/** The glob syntax of command outputs (`*`, `**`, `?`), as the local runner reads it. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\/?/g, '\u0000')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')
      .replaceAll('\u0000', '(?:.*/)?')}$`,
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
