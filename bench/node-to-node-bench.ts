/**
 * Node to node: a value made by a task on one agent and consumed by a task on another, moved
 * directly agent to agent (orchestrator/agent/object-transfer-*.ts) or, for comparison, relayed
 * through the head (`objectTransfer: 'relay'`). Two local agents, and an ssh node of the loopback
 * sshd of test/services with a local one (skipped, loudly, without the sshd). Each line gives the
 * throughput of the consuming task (transfer plus handing the value to its worker) and the bytes
 * that went through the head (State API `relayBytes`). Local agents run without shared memory
 * (`ORRERY_SHM=0`), standing for separate machines, except in the `shm` line: there the value
 * moves by a file link through the head. `--quick`: 64 MiB instead of 1 GiB.
 */
import { get, init, remote, shutdown, state } from '../orchestrator/api/index.ts';
import { LocalCluster } from '../orchestrator/testing/index.ts';
import { createSshBackend } from '../backends/ssh/index.ts';
import type { ObjectTransferMode } from '../orchestrator/protocol/agent-spec.ts';
import { servicesAvailable, sshService } from '../test/services/env.ts';

const MiB = 2 ** 20;
const bytes = process.argv.includes('--quick') ? 64 * MiB : 1024 * MiB;
const size = bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;

const make = remote({ name: 'bench-make' }, (n: number) => {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i += 4096) a[i] = 1;
  return a;
});
const consume = remote({ name: 'bench-consume' }, (a: Uint8Array) => a.length);

const emit = (metric: string, value: number, unit: string, note: string) =>
  process.stdout.write(`${JSON.stringify({ metric, value, unit, system: 'orrery', note })}\n`);

/** Makes the value on `from`, then times its consumer on `to`. */
async function move(
  from: string,
  to: string,
): Promise<{ gbps: number; seconds: number; relayBytes: number; directBytes: number; directMs: number }> {
  const ref = make.options({ schedulingStrategy: { nodeId: from, soft: false } }).remote(bytes);
  // Wait until the value is made, so only the move is timed.
  await get(
    remote({ name: 'bench-ready' }, (_: Uint8Array) => 0)
      .options({ schedulingStrategy: { nodeId: from, soft: false } })
      .remote(ref),
  );
  const t0 = performance.now();
  const n = await get(consume.options({ schedulingStrategy: { nodeId: to, soft: false } }).remote(ref));
  const seconds = (performance.now() - t0) / 1000;
  if (n !== bytes) throw new Error(`the consumer saw ${n} bytes, not ${bytes}`);
  const row = (await state.listObjects({ filters: [['objectId', '=', ref.id]] }))[0]!;
  return {
    gbps: bytes / 1e9 / seconds,
    seconds,
    relayBytes: row.relayBytes,
    directBytes: row.directBytes,
    directMs: row.directMs,
  };
}

/** `shm`: the agents share memory with the head (same machine); without it they stand for two machines. */
async function localPair(mode: ObjectTransferMode, shm = false): Promise<void> {
  if (!shm) process.env.ORRERY_SHM = '0';
  const cluster = await LocalCluster.start({ log: () => {} });
  const [a, b] = await Promise.all([
    cluster.addNode({ objectTransfer: mode }),
    cluster.addNode({ objectTransfer: mode }),
  ]);
  delete process.env.ORRERY_SHM;
  const name = shm ? 'shm' : mode === 'relay' ? 'relay' : 'direct';
  const how = shm ? 'sharing memory: a file link through the head' : mode;
  await init({ cluster, logToDriver: false });
  try {
    const r = await move(a.nodeId, b.nodeId);
    emit(
      `node_to_node_${name}_gigabytes`,
      r.gbps,
      'GB/s',
      `${size} made on one local agent, consumed by a task on another (${how}); ${r.seconds.toFixed(2)} s; ${r.relayBytes} bytes through the head, ${r.directBytes} direct`,
    );
    if (shm) return;
    if (r.directMs > 0)
      emit(
        'node_to_node_direct_transfer_gigabytes',
        bytes / 1e9 / (r.directMs / 1000),
        'GB/s',
        `the agent-to-agent transfer alone of the ${size} value: ${r.directMs} ms`,
      );
    emit(
      `node_to_node_${mode === 'relay' ? 'relay' : 'direct'}_head_bytes`,
      r.relayBytes,
      'bytes',
      `bytes of the ${size} value that passed through the head (${mode})`,
    );
  } finally {
    await shutdown();
    await cluster.shutdown();
  }
}

async function sshPair(): Promise<void> {
  const status = servicesAvailable();
  if (!status.ssh) {
    process.stderr.write(
      `!!! node to node over ssh not run: ${status.reason ?? 'the test sshd is down'}; start it with npm run services\n`,
    );
    return;
  }
  // Without shared memory on the local side: the ssh node stands for another machine.
  const cluster = await LocalCluster.start({ log: () => {} });
  const local = await cluster.addNode();
  await cluster.head.addBackend(
    createSshBackend({
      name: 'ssh',
      kind: 'ssh',
      hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
      identityFile: sshService.keyPath,
      knownHostsFile: sshService.knownHostsPath,
      numCpus: 1,
    }),
  );
  const sshNode = cluster.head.queries.nodeIds().find((n) => n !== local.nodeId)!;
  await init({ cluster, logToDriver: false });
  try {
    const r = await move(sshNode, local.nodeId);
    emit(
      'node_to_node_ssh_direct_gigabytes',
      r.gbps,
      'GB/s',
      `${size} made on an ssh node (loopback sshd), consumed on a local node; ${r.seconds.toFixed(2)} s; ${r.relayBytes} bytes through the head, ${r.directBytes} direct`,
    );
  } finally {
    await shutdown();
    await cluster.shutdown();
  }
}

await localPair('auto');
await localPair('relay');
await localPair('auto', true);
process.env.ORRERY_SHM = '0';
await sshPair();
