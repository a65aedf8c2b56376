/**
 * The head's bounded usage history per node: every sample of the last hour (one per 2 s), and
 * one average per minute for the day before, so a dashboard opened or reloaded later still
 * draws the chart. Nodes beyond {@link MAX_NODES} drop off oldest first.
 */
import type { NodeUsageSample } from '../protocol/state-rows.ts';
import { thinUsage } from '../sessions/index.ts';

/** Fine samples kept per node: an hour at one per 2 s. */
export const FINE_SAMPLES = 1800;
/** Width of the averages kept once samples are older than the fine window. */
export const COARSE_MS = 60_000;
/** Averages kept per node: a day of minutes. */
export const COARSE_SAMPLES = 1440;
/** Nodes whose history is kept. */
export const MAX_NODES = 512;

/** Numeric members averaged into a coarse sample. */
const NUMERIC = [
  'cpu',
  'memUsedBytes',
  'memTotalBytes',
  'gpus',
  'gpuUtil',
  'gpuMemUsedMb',
  'gpuMemTotalMb',
  'qpuUsed',
  'qpuTotal',
  'queued',
  'queuePosition',
] as const;

type Numeric = (typeof NUMERIC)[number];

/** A minute being averaged: sums and counts per member. */
class Bucket {
  readonly sums = new Map<Numeric, { sum: number; n: number }>();
  constructor(
    readonly nodeId: string,
    readonly minute: number,
  ) {}

  add(s: NodeUsageSample): void {
    for (const k of NUMERIC) {
      const v = s[k];
      if (v === undefined) continue;
      const e = this.sums.get(k);
      if (e) {
        e.sum += v;
        e.n++;
      } else this.sums.set(k, { sum: v, n: 1 });
    }
  }

  average(): NodeUsageSample {
    const out: Record<string, number | string> = { nodeId: this.nodeId, t: this.minute * COARSE_MS };
    for (const [k, { sum, n }] of this.sums) out[k] = sum / n;
    return out as unknown as NodeUsageSample;
  }
}

/** One node's samples. */
class NodeHistory {
  readonly fine: NodeUsageSample[] = [];
  readonly coarse: NodeUsageSample[] = [];
  private bucket: Bucket | undefined;

  add(s: NodeUsageSample): void {
    this.fine.push(s);
    if (this.fine.length <= FINE_SAMPLES) return;
    const old = this.fine.shift()!;
    const minute = Math.floor(old.t / COARSE_MS);
    if (this.bucket && this.bucket.minute !== minute) this.closeBucket();
    this.bucket ??= new Bucket(old.nodeId, minute);
    this.bucket.add(old);
  }

  /** Coarse averages, the minute being averaged, then fine samples, all at or after `since`. */
  since(since: number): NodeUsageSample[] {
    const out = this.coarse.filter((s) => s.t >= since);
    if (this.bucket && this.bucket.minute * COARSE_MS >= since) out.push(this.bucket.average());
    for (const s of this.fine) if (s.t >= since) out.push(s);
    return out;
  }

  private closeBucket(): void {
    this.coarse.push(this.bucket!.average());
    if (this.coarse.length > COARSE_SAMPLES) this.coarse.shift();
    this.bucket = undefined;
  }
}

/** Usage samples per node, bounded. */
export class UsageHistory {
  private readonly nodes = new Map<string, NodeHistory>();

  /** Adds samples (each to its node's history). */
  add(samples: readonly NodeUsageSample[]): void {
    for (const s of samples) {
      let h = this.nodes.get(s.nodeId);
      if (!h) {
        this.nodes.set(s.nodeId, (h = new NodeHistory()));
        if (this.nodes.size > MAX_NODES) this.nodes.delete(this.nodes.keys().next().value!);
      }
      h.add(s);
    }
  }

  /** Every kept sample at or after `since` (ms since the epoch), by node, oldest first within a node. */
  since(since = 0, nodeId?: string): NodeUsageSample[] {
    if (nodeId !== undefined) return this.nodes.get(nodeId)?.since(since) ?? [];
    const out: NodeUsageSample[] = [];
    for (const h of this.nodes.values()) out.push(...h.since(since));
    return out;
  }

  /**
   * Like {@link since} for every node, thinned to at most about `maxSamples` in all: every k-th
   * sample of each node (its newest always kept), so a snapshot for a big cluster stays small.
   */
  thinned(since: number, maxSamples: number): NodeUsageSample[] {
    return thinUsage(this.since(since), maxSamples);
  }

  /** The newest sample of each node. */
  latest(): NodeUsageSample[] {
    const out: NodeUsageSample[] = [];
    for (const h of this.nodes.values()) {
      const s = h.fine[h.fine.length - 1];
      if (s) out.push(s);
    }
    return out;
  }
}
