/**
 * Worker output: kept per task (bounded) for `orrery logs`, and echoed on the driver prefixed by
 * the task's name, as Ray's log_to_driver does.
 */

const MAX_LINES_PER_TASK = 1000;
/** Recent lines kept per node (whatever task printed them), for the dashboard's node logs after a reload. */
export const MAX_LINES_PER_NODE = 2000;
/** Nodes whose recent lines are kept; the oldest drops off. */
const MAX_NODES_KEPT = 512;

/** A line a node's workers printed, as kept per node. */
export interface NodeLogLine {
  /** ms since the epoch, when the head got it. */
  readonly t: number;
  readonly taskId?: string;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** One complete line of worker output, as subscribers see it. */
export interface LogLine {
  readonly nodeId: string;
  readonly taskId: string | undefined;
  readonly stream: 'stdout' | 'stderr';
  /** The line as the task printed it. */
  readonly text: string;
  /** The line as echoed on a driver: prefixed by the task's name and node. */
  readonly echoed: string;
}

/** One kept line of a task, with the attempt that printed it (the dashboard groups lines per attempt). */
export interface KeptLine {
  readonly attempt: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** Collects and forwards task output. */
export class LogRouter {
  private readonly byTask = new Map<string, KeptLine[]>();
  private readonly byNode = new Map<string, NodeLogLine[]>();
  private readonly partial = new Map<string, string>();
  private readonly listeners = new Set<(l: LogLine) => void>();
  /** Where echoed lines go (the driver's stdout and stderr) until echo is turned off. */
  private echo: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined = (line, stream) =>
    (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`);

  /** Stops echoing lines on this process's terminal (`logToDriver: false`, a service head); they are still kept and sent to subscribers. */
  stopEcho(): void {
    this.echo = undefined;
  }

  /** Adds output of a worker, attributed to the task it was running (if known). */
  append(
    nodeId: string,
    m: { taskId?: string; name?: string; attempt?: number; stream: 'stdout' | 'stderr'; text: string },
  ): void {
    const key = `${nodeId}/${m.taskId ?? ''}/${m.stream}`;
    const text = (this.partial.get(key) ?? '') + m.text;
    const lines = text.split('\n');
    this.partial.set(key, lines.pop() ?? '');
    const prefix = `(${m.name ?? 'worker'} node=${nodeId.slice(0, 8)})`;
    const t = Date.now();
    for (const line of lines) {
      this.keepForNode(nodeId, { t, ...(m.taskId ? { taskId: m.taskId } : {}), stream: m.stream, text: line });
      if (m.taskId) {
        let kept = this.byTask.get(m.taskId);
        if (!kept) this.byTask.set(m.taskId, (kept = []));
        kept.push({ attempt: m.attempt ?? 0, stream: m.stream, text: line });
        if (kept.length > MAX_LINES_PER_TASK) kept.shift();
      }
      this.echo?.(`${prefix} ${line}`, m.stream);
      for (const l of this.listeners)
        l({ nodeId, taskId: m.taskId, stream: m.stream, text: line, echoed: `${prefix} ${line}` });
    }
  }

  /** Calls `listener` with every line from now on (drivers in other processes, `orrery logs -f`); returns the unsubscribe function. */
  subscribe(listener: (l: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The recent lines of node `nodeId`'s workers (the last {@link MAX_LINES_PER_NODE}), oldest first. */
  nodeLines(nodeId: string): readonly NodeLogLine[] {
    return (this.byNode.get(nodeId) ?? []).slice(-MAX_LINES_PER_NODE);
  }

  private keepForNode(nodeId: string, line: NodeLogLine): void {
    let kept = this.byNode.get(nodeId);
    if (!kept) {
      this.byNode.set(nodeId, (kept = []));
      if (this.byNode.size > MAX_NODES_KEPT) this.byNode.delete(this.byNode.keys().next().value!);
    }
    kept.push(line);
    // Trimmed a tenth at a time, so a chatty node does not shift the whole array on every line.
    if (kept.length > MAX_LINES_PER_NODE * 1.1) kept.splice(0, kept.length - MAX_LINES_PER_NODE);
  }

  /** The lines a task printed (the last 1000). */
  lines(taskId: string): readonly string[] {
    return (this.byTask.get(taskId) ?? []).map((l) => l.text);
  }

  /** The lines a task printed (the last 1000), each with its attempt and stream. */
  entries(taskId: string): readonly KeptLine[] {
    return this.byTask.get(taskId) ?? [];
  }
}
