/**
 * Follows a training job's output in CloudWatch Logs. SageMaker writes each instance's
 * stdout and stderr, merged, to the group `/aws/sagemaker/TrainingJobs`, stream
 * `<job>/algo-<n>-<epoch>`; the streams appear only once the container starts, so every poll
 * lists them again (DescribeLogStreams by prefix) and reads each from its last nextForwardToken.
 */
import {
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  type CloudWatchLogsClient,
} from '@aws-sdk/client-cloudwatch-logs';

/** The log group of every training job. */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/** Keeps this much of the log text for the result and the failure's tail. */
const KEEP = 16 * 1024 * 1024;

/** The log of one job, read incrementally. */
export class TrainingLogTail {
  private readonly tokens = new Map<string, string | undefined>();
  private kept = '';
  private recent = '';
  private dropped = false;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly jobName: string,
    /** Hears every new line, prefixed by its stream's host when the job has several instances. */
    private readonly onLine: (line: string) => void,
  ) {}

  /** Reads whatever was written since the last call; a group not created yet reads as nothing. */
  async poll(signal?: AbortSignal): Promise<void> {
    let streams: string[];
    try {
      streams = await this.streams(signal);
    } catch (err) {
      if ((err as { name?: string }).name === 'ResourceNotFoundException') return;
      throw err;
    }
    const multi = streams.length > 1;
    for (const stream of streams) {
      for (;;) {
        const token = this.tokens.get(stream);
        const r = await this.logs.send(
          new GetLogEventsCommand({
            logGroupName: TRAINING_LOG_GROUP,
            logStreamName: stream,
            startFromHead: true,
            ...(token ? { nextToken: token } : {}),
          }),
          { abortSignal: signal },
        );
        for (const e of r.events ?? []) {
          const text = (e.message ?? '').replace(/\n$/, '');
          this.keep(`${text}\n`);
          this.onLine(multi ? `[${stream.slice(this.jobName.length + 1)}] ${text}` : text);
        }
        this.tokens.set(stream, r.nextForwardToken);
        // CloudWatch signals the end of a stream by handing back the token it was given.
        if (!r.nextForwardToken || r.nextForwardToken === token || (r.events ?? []).length === 0) break;
      }
    }
  }

  /** All text read so far (capped at 16 MiB; the start is kept). */
  get text(): string {
    return this.kept;
  }

  /** The last `bytes` characters read, for a failure's stderr tail. */
  tail(bytes = 4096): string {
    return this.recent.slice(-bytes);
  }

  /** Whether text past the cap was not kept. */
  get truncated(): boolean {
    return this.dropped;
  }

  private keep(text: string): void {
    this.recent = (this.recent + text).slice(-65536);
    if (this.kept.length + text.length <= KEEP) this.kept += text;
    else this.dropped = true;
  }

  private async streams(signal?: AbortSignal): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const r = await this.logs.send(
        new DescribeLogStreamsCommand({
          logGroupName: TRAINING_LOG_GROUP,
          logStreamNamePrefix: `${this.jobName}/`,
          ...(nextToken ? { nextToken } : {}),
        }),
        { abortSignal: signal },
      );
      for (const s of r.logStreams ?? []) if (s.logStreamName) names.push(s.logStreamName);
      nextToken = r.nextToken;
    } while (nextToken);
    return names.sort();
  }
}
