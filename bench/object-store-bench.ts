/**
 * Object store benchmarks: `get` of an object holding 10,000 refs (Ray's
 * single_client_get_object_containing_10k_refs, 13.3/s on Ray's reference machine), and a
 * 1 GiB value spilled to disk and restored, next to `dd ... conv=fdatasync` on the same disk.
 * `objectStoreBench()` returns JSON lines `{ metric, value, unit, system, note }`; run this file
 * to print them (`--quick` for a smoke run, `--dir <path>` for the spill disk).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, shutdown, put, get, type ObjectRef } from '../orchestrator/api/index.ts';
import { LocalCluster } from '../orchestrator/testing/index.ts';
import { budgetFor, measureRate } from './measure.ts';

/** One benchmark result line. */
export interface BenchLine {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly system: 'orrery' | 'dd';
  readonly note: string;
}

/** Options of the object store benchmarks. */
export interface ObjectStoreBenchOptions {
  /** Short runs with a 64 MiB value instead of 1 GiB. */
  readonly quick?: boolean;
  /** Folder on the disk to spill to (default: the OS temp folder). */
  readonly dir?: string;
}

const MiB = 2 ** 20;

/** Gets one object containing 10k refs, again and again. */
async function getWith10kRefs(quick: boolean): Promise<BenchLine> {
  const cluster = await LocalCluster.start({ log: () => {} });
  await init({ cluster, logToDriver: false });
  try {
    const refs: ObjectRef<number>[] = [];
    for (let i = 0; i < 10_000; i++) refs.push(put(i));
    const outer = put(refs);
    const rate = await measureRate(budgetFor(quick), 1, async () => {
      const back = await get(outer);
      if (back.length !== 10_000) throw new Error(`got ${back.length} refs back`);
    });
    return {
      metric: 'single_client_get_object_containing_10k_refs',
      value: rate.value,
      unit: 'gets/s',
      system: 'orrery',
      note: `embedded driver; ${rate.ops} gets in ${rate.seconds.toFixed(2)} s; Ray's published figure is 13.3/s`,
    };
  } finally {
    await shutdown();
    await cluster.shutdown();
  }
}

/** Puts a value larger than the store budget (spilled at once), then gets it back (restored). */
async function spillAndRestore(bytes: number, dir: string): Promise<BenchLine[]> {
  const spillDir = join(dir, `orrery-spill-bench-${process.pid}`);
  const cluster = await LocalCluster.start({ log: () => {}, objectStoreMemory: Math.floor(bytes / 4), spillDir });
  await init({ cluster, logToDriver: false });
  try {
    const value = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 4096) value[i] = (i / 4096) & 0xff;
    const ref = put(value);
    const stats = cluster.head.queries.spillStats();
    if (stats.spilledBytes < bytes) throw new Error(`the value was not spilled (${stats.spilledBytes} bytes written)`);
    const back = await get(ref);
    if (back.length !== bytes || back[4096 * 7] !== 7 || back[4096 * 7 + 1] !== 0)
      throw new Error('the restored value differs');
    const mb = bytes / 1e6;
    const size = `${bytes / MiB} MiB`;
    return [
      {
        metric: 'object_spill_throughput',
        value: mb / (stats.spillMs / 1000),
        unit: 'MB/s',
        system: 'orrery',
        note: `${size} put past a ${bytes / 4 / MiB} MiB store budget; one writeFileSync to ${spillDir} (page cache, no fsync)`,
      },
      {
        metric: 'object_restore_throughput',
        value: mb / (stats.restoreMs / 1000),
        unit: 'MB/s',
        system: 'orrery',
        note: `${size} read back by get (one readFileSync of the spill file, into a fresh buffer)`,
      },
    ];
  } finally {
    await shutdown();
    await cluster.shutdown();
  }
}

/** `dd` writing the same amount to the same folder with fdatasync, for scale. */
function ddWrite(bytes: number, dir: string): BenchLine {
  const file = join(dir, `orrery-dd-${process.pid}`);
  const count = Math.round(bytes / MiB);
  try {
    const t0 = performance.now();
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${count}`, 'conv=fdatasync'], {
      stdio: 'ignore',
    });
    const s = (performance.now() - t0) / 1000;
    return {
      metric: 'object_spill_throughput',
      value: bytes / 1e6 / s,
      unit: 'MB/s',
      system: 'dd',
      note: `dd if=/dev/zero of=${file} bs=1M count=${count} conv=fdatasync (includes the flush to disk)`,
    };
  } finally {
    rmSync(file, { force: true });
  }
}

/** Runs the object store benchmarks; returns their JSON lines. */
export async function objectStoreBench(opts: ObjectStoreBenchOptions = {}): Promise<BenchLine[]> {
  const quick = opts.quick ?? false;
  const dir = opts.dir ?? tmpdir();
  mkdirSync(dir, { recursive: true });
  const bytes = quick ? 64 * MiB : 1024 * MiB;
  const lines: BenchLine[] = [await getWith10kRefs(quick)];
  lines.push(...(await spillAndRestore(bytes, dir)));
  lines.push(ddWrite(bytes, dir));
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const dirAt = argv.indexOf('--dir');
  for (const line of await objectStoreBench({
    quick: argv.includes('--quick'),
    dir: dirAt >= 0 ? argv[dirAt + 1] : undefined,
  })) {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}
