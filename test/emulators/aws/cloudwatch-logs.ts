/**
 * The CloudWatch Logs subset training jobs need, JSON 1.1 (signing name `logs`, `POST /` with
 * `X-Amz-Target: Logs_20140328.<Operation>`): DescribeLogStreams, GetLogEvents (forward tokens
 * that come back unchanged at the end of a stream, as the real service's do), FilterLogEvents.
 * Other emulated services write with `append`.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/
 */
import {
  jsonAuthError,
  jsonError,
  jsonReply,
  type AuthFailure,
  type AwsReply,
  type AwsRequest,
  type AwsServiceModule,
} from './replies.ts';

/** One stored event. */
export interface LogEvent {
  readonly timestamp: number;
  readonly ingestionTime: number;
  readonly message: string;
}

interface Stream {
  readonly name: string;
  readonly creationTime: number;
  readonly events: LogEvent[];
}

const TARGET = 'Logs_20140328.';

/** The emulated CloudWatch Logs. */
export class CloudWatchLogsEmulator implements AwsServiceModule {
  readonly signingName = 'logs';
  readonly uriEscapePath = true;
  private readonly groups = new Map<string, Map<string, Stream>>();
  /** Every operation called, in order. */
  readonly calls: string[] = [];

  /** @param regions regions it answers in (others get the real service's invalid-region error). */
  constructor(private readonly regions: readonly string[] = ['us-east-1']) {}

  /** Appends one event (a line of output) to a stream, creating the group and stream as needed. */
  append(group: string, stream: string, message: string, timestamp = Date.now()): void {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = new Map()));
    let s = g.get(stream);
    if (!s) g.set(stream, (s = { name: stream, creationTime: Date.now(), events: [] }));
    s.events.push({ timestamp, ingestionTime: Date.now(), message });
  }

  /** The events of a stream (for tests). */
  events(group: string, stream: string): readonly LogEvent[] {
    return this.groups.get(group)?.get(stream)?.events ?? [];
  }

  /** Stream names of a group. */
  streams(group: string): string[] {
    return [...(this.groups.get(group)?.keys() ?? [])];
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
    this.calls.push(op);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return jsonError(400, 'SerializationException', 'the request body is not JSON');
    }
    switch (op) {
      case 'DescribeLogStreams':
        return this.describeLogStreams(body);
      case 'GetLogEvents':
        return this.getLogEvents(body);
      case 'FilterLogEvents':
        return this.filterLogEvents(body);
      default:
        return jsonError(400, 'UnknownOperationException', `operation ${op} is not emulated`);
    }
  }

  private group(name: unknown): Map<string, Stream> | AwsReply {
    if (typeof name !== 'string' || name === '')
      return jsonError(
        400,
        'InvalidParameterException',
        "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null",
      );
    return (
      this.groups.get(name) ?? jsonError(400, 'ResourceNotFoundException', 'The specified log group does not exist.')
    );
  }

  private describeLogStreams(b: Record<string, unknown>): AwsReply {
    const g = this.group(b.logGroupName);
    if (!(g instanceof Map)) return g;
    const prefix = typeof b.logStreamNamePrefix === 'string' ? b.logStreamNamePrefix : '';
    if (prefix && b.orderBy === 'LastEventTime')
      return jsonError(400, 'InvalidParameterException', 'Cannot order by LastEventTime with a logStreamNamePrefix.');
    let all = [...g.values()].filter((s) => s.name.startsWith(prefix)).sort((a, c) => (a.name < c.name ? -1 : 1));
    if (b.descending === true) all = all.reverse();
    const start = typeof b.nextToken === 'string' ? Number(b.nextToken) : 0;
    const limit = typeof b.limit === 'number' ? b.limit : 50;
    const page = all.slice(start, start + limit);
    return jsonReply(200, {
      logStreams: page.map((s) => ({
        logStreamName: s.name,
        creationTime: s.creationTime,
        ...(s.events.length > 0
          ? {
              firstEventTimestamp: s.events[0]!.timestamp,
              lastEventTimestamp: s.events.at(-1)!.timestamp,
              lastIngestionTime: s.events.at(-1)!.ingestionTime,
            }
          : {}),
        arn: `arn:aws:logs:us-east-1:123456789012:log-group:${String(b.logGroupName)}:log-stream:${s.name}`,
        storedBytes: 0,
      })),
      ...(start + limit < all.length ? { nextToken: String(start + limit) } : {}),
    });
  }

  private getLogEvents(b: Record<string, unknown>): AwsReply {
    const g = this.group(b.logGroupName);
    if (!(g instanceof Map)) return g;
    const s = g.get(String(b.logStreamName));
    if (!s) return jsonError(400, 'ResourceNotFoundException', 'The specified log stream does not exist.');
    const limit = typeof b.limit === 'number' ? b.limit : 10000;
    let at: number;
    if (typeof b.nextToken === 'string') {
      const m = /^[fb]\/(\d+)$/.exec(b.nextToken);
      if (!m) return jsonError(400, 'InvalidParameterException', 'The specified nextToken is invalid.');
      at = Number(m[1]);
    } else {
      at = b.startFromHead === true ? 0 : Math.max(0, s.events.length - limit);
    }
    const page = s.events.slice(at, at + limit);
    const end = at + page.length;
    return jsonReply(200, {
      events: page.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
      nextForwardToken: `f/${end}`,
      nextBackwardToken: `b/${at}`,
    });
  }

  private filterLogEvents(b: Record<string, unknown>): AwsReply {
    const g = this.group(b.logGroupName);
    if (!(g instanceof Map)) return g;
    const names = Array.isArray(b.logStreamNames) ? (b.logStreamNames as string[]) : undefined;
    const prefix = typeof b.logStreamNamePrefix === 'string' ? b.logStreamNamePrefix : '';
    const pattern = typeof b.filterPattern === 'string' ? b.filterPattern.replace(/^"|"$/g, '') : '';
    const from = typeof b.startTime === 'number' ? b.startTime : -Infinity;
    const to = typeof b.endTime === 'number' ? b.endTime : Infinity;
    const streams = [...g.values()].filter((s) => (names ? names.includes(s.name) : s.name.startsWith(prefix)));
    const events = streams
      .flatMap((s) => s.events.map((e, i) => ({ logStreamName: s.name, ...e, eventId: `${s.name}:${i}` })))
      .filter((e) => e.timestamp >= from && e.timestamp <= to && (pattern === '' || e.message.includes(pattern)))
      .sort((a, c) => a.timestamp - c.timestamp);
    const start = typeof b.nextToken === 'string' ? Number(b.nextToken) : 0;
    const limit = typeof b.limit === 'number' ? b.limit : 10000;
    const page = events.slice(start, start + limit);
    return jsonReply(200, {
      events: page,
      searchedLogStreams: streams.map((s) => ({ logStreamName: s.name, searchedCompletely: true })),
      ...(start + limit < events.length ? { nextToken: String(start + limit) } : {}),
    });
  }
}

/** What AWS answers a request signed for a region the service does not have. */
export function invalidRegion(region: string): AwsReply {
  return jsonError(
    403,
    'InvalidSignatureException',
    `Credential should be scoped to a valid region, not '${region}'. `,
  );
}
