/**
 * Turns what the head knows about its nodes into one usage sample per live node every 2 s:
 * the machine's CPU, memory and GPUs from the agent's latest `usage` message
 * (agent/usage-sampler.ts), QPU slots in use from the node's resources, and queue positions
 * that running circuit tasks reported (`queuePosition` in their info). The samples go into the
 * bounded history and out as a head event (the session recorder, the dashboard's feed).
 */
import type { NodeUsageMessage } from '../protocol/messages.ts';
import type { NodeUsageSample } from '../protocol/state-rows.ts';
import { UsageHistory } from './usage-history.ts';

/** How often the head samples. */
export const HEAD_USAGE_MS = 2000;
/** An agent sample older than this is not used (the agent stopped reporting). */
const AGENT_SAMPLE_FRESH_MS = 3 * HEAD_USAGE_MS;

/** A live node as the monitor needs it. */
export interface MonitoredNode {
  readonly nodeId: string;
  readonly resources: Readonly<Record<string, number>>;
  readonly available: Readonly<Record<string, number>>;
}

/** Where the monitor reads the head's state. */
export interface UsageSources {
  liveNodes(): Iterable<MonitoredNode>;
  /** Queue positions reported by running tasks, by node id (only asked when a node has QPU slots). */
  queuePositions(): Map<string, number[]>;
  /** Where each round of samples goes (head events). */
  publish(samples: readonly NodeUsageSample[]): void;
}

/** Samples the nodes and keeps their history. */
export class UsageMonitor {
  readonly history = new UsageHistory();
  private readonly agentSamples = new Map<string, { readonly at: number; readonly m: NodeUsageMessage }>();
  private lastSample = 0;

  constructor(private readonly sources: UsageSources) {}

  /** An agent's `usage` message. */
  report(nodeId: string, m: NodeUsageMessage, now: number): void {
    this.agentSamples.set(nodeId, { at: now, m });
  }

  /** Called on the head's tick: samples when the interval has passed. */
  tick(now: number): void {
    if (now - this.lastSample < HEAD_USAGE_MS) return;
    this.lastSample = now;
    this.sample(now);
  }

  /** Takes one sample per live node now (the tick calls it; tests may too). */
  sample(now: number): NodeUsageSample[] {
    const nodes = [...this.sources.liveNodes()];
    const live = new Set(nodes.map((n) => n.nodeId));
    for (const id of this.agentSamples.keys()) if (!live.has(id)) this.agentSamples.delete(id);
    const queues = nodes.some((n) => (n.resources.QPU ?? 0) > 0) ? this.sources.queuePositions() : undefined;
    const out: NodeUsageSample[] = [];
    for (const n of nodes) {
      const s: { -readonly [K in keyof NodeUsageSample]: NodeUsageSample[K] } = { nodeId: n.nodeId, t: now };
      const a = this.agentSamples.get(n.nodeId);
      if (a && now - a.at <= AGENT_SAMPLE_FRESH_MS) {
        s.cpu = a.m.cpu;
        s.memUsedBytes = a.m.memUsedBytes;
        s.memTotalBytes = a.m.memTotalBytes;
        const gpus = a.m.gpus ?? [];
        if (gpus.length > 0) {
          s.gpus = gpus.length;
          s.gpuUtil = gpus.reduce((x, g) => x + g.util, 0) / gpus.length;
          s.gpuMemUsedMb = gpus.reduce((x, g) => x + g.memUsedMb, 0);
          s.gpuMemTotalMb = gpus.reduce((x, g) => x + g.memTotalMb, 0);
        }
      }
      const qpu = n.resources.QPU ?? 0;
      if (qpu > 0) {
        s.qpuTotal = qpu;
        s.qpuUsed = Math.max(0, qpu - (n.available.QPU ?? 0));
        const waiting = (queues?.get(n.nodeId) ?? []).filter((p) => p > 0);
        s.queued = waiting.length;
        if (waiting.length > 0) s.queuePosition = Math.min(...waiting);
      }
      if (s.cpu !== undefined || s.qpuTotal !== undefined) out.push(s);
    }
    if (out.length > 0) {
      this.history.add(out);
      this.sources.publish(out);
    }
    return out;
  }
}
