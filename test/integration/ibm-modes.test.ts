/**
 * IBM execution modes (batch and session) and primitive options against the IBM emulator, with
 * the API key in the real OS keychain. Run inside test/services/keyring.sh.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as orrery from 'orrery-compute';
import {
  clientFor,
  IbmSessionKeeper,
  IBM_SESSION_ENV,
  runOnIbm,
  SessionFile,
  type IbmQuantumConfig,
} from '../../backends/quantum/ibm/index.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import type { CircuitRun, TaskInfo } from '../../backends/quantum/run-types.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';
import type { IbmEmulator } from '../emulators/ibm/index.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import { tempDir, until } from './helpers.ts';
import { ibmEmulatorSetup } from './ibm-setup.ts';

const keepers: IbmSessionKeeper[] = [];
after(async () => {
  for (const k of keepers) await k.stop().catch(() => {});
});

const setup = ibmEmulatorSetup(undefined, { device: 'ibm_fake_manila' });

/** The backend's head-side keeper, started as a head would start it; its session file is what workers get. */
async function keeperFor(
  config: IbmQuantumConfig,
  durable?: { runDir: string; reattach: boolean },
): Promise<{ keeper: IbmSessionKeeper; file: string; logs: string[] }> {
  const logs: string[] = [];
  const keeper = new IbmSessionKeeper(config, () => clientFor(config));
  keepers.push(keeper);
  const env = await keeper.start(durable, (l) => logs.push(l));
  const file = env[IBM_SESSION_ENV]!;
  process.env[IBM_SESSION_ENV] = file;
  return { keeper, file, logs };
}

const BELL = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c[0] = measure q[0];
c[1] = measure q[1];
`;

function circuitRun(opts: { ibmOptions?: Record<string, unknown> } = {}) {
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  const run: CircuitRun = {
    circuit: parseQasm(BELL),
    source: BELL,
    shots: 200,
    device: undefined,
    ...(opts.ibmOptions && { ibmOptions: opts.ibmOptions }),
    signal: new AbortController().signal,
    report: (info) => reports.push(info),
    log: (line) => logs.push(line),
  };
  return { run, reports, logs };
}

const sessionRequests = (emu: IbmEmulator, method: string) =>
  emu.requests.filter((r) => r.method === method && r.path.startsWith('/api/v1/sessions'));

test('batch mode: concurrent tasks open one batch, every job names it, shutdown closes it', async () => {
  const { emu, config } = await setup({}, { mode: 'batch', sessionMaxTtlS: 600 });
  const { keeper } = await keeperFor(config);
  const runs = [circuitRun(), circuitRun(), circuitRun()];
  const results = await Promise.all(runs.map((r) => runOnIbm(config, r.run)));
  assert.equal(emu.sessions().length, 1, 'one batch for three concurrent tasks');
  const [s] = emu.sessions();
  assert.equal(s!.mode, 'batch');
  assert.equal(s!.backend, 'ibm_fake_manila');
  assert.equal(s!.maxTtlS, 600);
  const create = sessionRequests(emu, 'POST')[0]!;
  assert.deepEqual(create.body, { mode: 'batch', backend: 'ibm_fake_manila', max_ttl: 600 });
  const submits = emu.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/jobs' && r.status === 200);
  assert.equal(submits.length, 3);
  for (const r of submits) assert.equal((r.body as { session_id?: string }).session_id, s!.id);
  for (const j of emu.jobs()) assert.equal(j.sessionId, s!.id);
  for (const r of runs) assert.ok(r.reports.some((i) => i.ibmSession === s!.id && i.executionMode === 'batch'));
  assert.equal(results.length, 3);
  assert.notEqual(emu.sessionState(s!.id), 'closed');
  await keeper.stop();
  assert.deepEqual(
    sessionRequests(emu, 'PATCH').map((r) => r.body),
    [{ accepting_jobs: false }],
  );
  assert.equal(emu.sessionState(s!.id), 'closed');
});

test('session mode: a dedicated session goes inactive after its interactive TTL, takes the next job, and closes when idle', async () => {
  const { emu, config } = await setup({ interactiveTtlS: 0.2 }, { mode: 'session', sessionIdleS: 1 });
  const { logs } = await keeperFor(config);
  await runOnIbm(config, circuitRun().run);
  const [s] = emu.sessions();
  assert.equal(s!.mode, 'dedicated');
  assert.equal(emu.sessionState(s!.id), 'active');
  await until('the session is inactive', () => emu.sessionState(s!.id) === 'inactive', 5000);
  await runOnIbm(config, circuitRun().run);
  assert.equal(emu.sessions().length, 1, 'an inactive session still takes jobs');
  assert.equal(emu.jobs().at(-1)!.sessionId, s!.id);
  // No job in flight for sessionIdleS: the backend closes it.
  await until('the idle session is closed', () => emu.sessionState(s!.id) === 'closed', 8000);
  // The keeper logs once the service answered the close.
  await until('the keeper logged the idle close', () =>
    logs.some((l) => l.includes(`session ${s!.id} on ibm_fake_manila closed (idle)`)),
  );
  assert.equal(sessionRequests(emu, 'PATCH').length, 1);
});

test('a session past its max TTL is closed by the service; the next task opens a new one', async () => {
  const { emu, config } = await setup({ sessionMaxTtlS: 0.3 }, { mode: 'batch' });
  await keeperFor(config);
  await runOnIbm(config, circuitRun().run);
  const first = emu.sessions()[0]!;
  await until('the first batch expired', () => emu.sessionState(first.id) === 'closed', 5000);
  const again = circuitRun();
  await runOnIbm(config, again.run);
  assert.equal(emu.sessions().length, 2);
  const second = emu.sessions()[1]!;
  assert.notEqual(second.id, first.id);
  assert.equal(emu.jobs().at(-1)!.sessionId, second.id);
  assert.ok(
    again.logs.some((l) => l.includes(`batch ${first.id} on ibm_fake_manila is closed (max_ttl reached)`)),
    again.logs.join('\n'),
  );
});

test('a session closed between the check and the submission: the refused job is submitted again in a new one', async () => {
  const { emu, config } = await setup({}, { mode: 'batch' });
  await keeperFor(config);
  await runOnIbm(config, circuitRun().run);
  const first = emu.sessions()[0]!;
  emu.beforeNextSubmit(() => {
    first.acceptingJobs = false;
  });
  const again = circuitRun();
  const r = await runOnIbm(config, again.run);
  const refused = emu.requests.filter((q) => q.method === 'POST' && q.path === '/api/v1/jobs' && q.status === 400);
  assert.equal(refused.length, 1, 'the job was refused once');
  assert.equal(emu.sessions().length, 2);
  const second = emu.sessions()[1]!;
  assert.equal(emu.jobs().find((j) => j.id === r.jobId)!.sessionId, second.id);
  assert.ok(
    again.logs.some((l) => l.includes(`batch ${first.id} no longer accepts jobs (closed`)),
    again.logs.join('\n'),
  );
});

test('the service refuses a job in a closed session with its error, and unknown options with a 400', async () => {
  const { emu, config } = await setup({}, { mode: 'batch' });
  const client = await clientFor(config);
  const s = await client.createSession({ mode: 'batch', backend: 'ibm_fake_manila' });
  await client.closeSession(s.id);
  const body = {
    program_id: 'sampler' as const,
    backend: 'ibm_fake_manila',
    params: { pubs: [['OPENQASM 3.0;']], version: 2 as const, support_qiskit: false as const },
  };
  await assert.rejects(
    client.submit({ ...body, session_id: s.id }),
    (e: unknown) =>
      e instanceof BackendError && /HTTP 400\): Session \w+ is closed and does not accept new jobs/.test(e.message),
  );
  await assert.rejects(
    client.submit({ ...body, params: { ...body.params, options: { resilience_level: 1 } } }),
    (e: unknown) =>
      e instanceof BackendError && /options\.resilience_level: Extra inputs are not permitted/.test(e.message),
  );
  assert.equal(emu.jobs().length, 0);
});

test('task options and backend defaults reach the job as params.options, merged key by key', async () => {
  const { emu, config } = await setup(
    {},
    { ibmOptions: { twirling: { enable_gates: true }, dynamical_decoupling: { enable: true, sequence_type: 'XX' } } },
  );
  await runOnIbm(
    config,
    circuitRun({ ibmOptions: { dynamical_decoupling: { enable: true, sequence_type: 'XY4' } } }).run,
  );
  assert.deepEqual(emu.jobs().at(-1)!.options, {
    twirling: { enable_gates: true },
    dynamical_decoupling: { enable: true, sequence_type: 'XY4' },
  });
  assert.equal(emu.jobs().at(-1)!.sessionId, undefined, 'job mode: no session');
  assert.equal(emu.sessions().length, 0);
});

test('a resumed head keeps using the live session; a fresh head closes what the last one left', async () => {
  const { emu, config } = await setup({}, { mode: 'session' });
  const runDir = tempDir('ibm-run');
  const first = await keeperFor(config, { runDir, reattach: false });
  await runOnIbm(config, circuitRun().run);
  const [s] = emu.sessions();
  // The head dies (its keeper never stops); the next one resumes the session from the same run folder.
  const resumed = await keeperFor(config, { runDir, reattach: true });
  assert.equal(resumed.file, first.file);
  const r = circuitRun();
  await runOnIbm(config, r.run);
  assert.equal(emu.sessions().length, 1, 'no new session');
  assert.equal(emu.jobs().at(-1)!.sessionId, s!.id);
  assert.ok(r.reports.some((i) => i.ibmSession === s!.id));
  // A head started afresh (not --resume) closes the session the earlier head left open.
  const fresh = await keeperFor(config, { runDir, reattach: false });
  assert.equal(emu.sessionState(s!.id), 'closed');
  assert.ok(
    fresh.logs.some((l) => l.includes('left by an earlier head')),
    fresh.logs.join('\n'),
  );
  assert.deepEqual(new SessionFile(fresh.file).read(), []);
});

test('end to end: mode batch through init() and circuit(); the batch id is a task fact and shutdown closes it', async () => {
  const { emu, config } = await setup({}, {});
  delete process.env[IBM_SESSION_ENV];
  const { circuit, get, init, shutdown, state } = orrery;
  await init({
    backends: [
      {
        name: 'ibm',
        kind: 'ibm-quantum',
        instanceCrn: emu.instanceCrn,
        apiKeySecret: config.apiKeySecret,
        url: emu.url,
        iamUrl: emu.iamUrl,
        pollIntervalMs: 20,
        device: 'ibm_fake_manila',
        mode: 'batch',
      },
    ],
  });
  let batch: string;
  try {
    const bell = circuit({ backend: 'ibm', shots: 300, ibmOptions: { twirling: { enable_gates: true } } });
    const rs = await get([bell.remote(BELL), bell.remote(BELL)]);
    assert.equal(rs.length, 2);
    assert.equal(emu.sessions().length, 1);
    batch = emu.sessions()[0]!.id;
    for (const j of emu.jobs()) {
      assert.equal(j.sessionId, batch);
      assert.deepEqual(j.options, { twirling: { enable_gates: true } });
    }
    const rows = await state.listTasks({ filters: [['name', '=', 'circuit']] });
    assert.equal(rows.length, 2);
    for (const row of rows) assert.equal((row.info as Record<string, unknown>).ibmSession, batch);
  } finally {
    await shutdown();
  }
  assert.equal(emu.sessionState(batch), 'closed');
});

const CLI = new URL('../../orchestrator/cli/main.ts', import.meta.url).pathname;
const DRIVER = new URL('./fixtures/driver-ibm-circuit.ts', import.meta.url).pathname;

test('orrery start --resume after SIGKILL: the resumed head keeps using the live session; stopping it closes the session', async () => {
  const { emu, config } = await setup({}, { mode: 'session' });
  const home = tempDir('ibm-modes-resume');
  const env: NodeJS.ProcessEnv = { ...process.env, ORRERY_HOME: home };
  delete env.ORRERY_ADDRESS;
  delete env.ORRERY_TOKEN;
  delete env[IBM_SESSION_ENV];
  const { name: _n, kind: _k, ...ibm } = config;
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({ backends: [{ name: 'ibm', kind: 'ibm-quantum', ...ibm }] }),
  );
  const headFile = join(home, 'head.json');
  const start = (...extra: string[]): ChildProcess =>
    spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '--port', '0', ...extra], { env, stdio: 'ignore' });
  const headPid = async () =>
    await until(
      'head.json',
      () => existsSync(headFile) && (JSON.parse(readFileSync(headFile, 'utf8')) as { pid: number }).pid,
      30_000,
    );
  const drive = () =>
    new Promise<{ jobId: string }>((resolve, reject) => {
      const d = spawn(process.execPath, ['--import', 'tsx', DRIVER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      d.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      d.stderr!.on('data', (b: Buffer) => (err += b.toString()));
      d.once('exit', (code) => {
        const line = out.split('\n').find((l) => l.startsWith('RESULT '));
        if (line) resolve(JSON.parse(line.slice('RESULT '.length)) as { jobId: string });
        else reject(new Error(`driver exited (${code}) without a result: ${err.slice(-800)}`));
      });
    });

  const first = start('--session', 'ibm-res');
  const pid = await headPid();
  const r1 = await drive();
  assert.equal(emu.sessions().length, 1);
  const s = emu.sessions()[0]!;
  assert.equal(emu.jobs().find((j) => j.id === r1.jobId)!.sessionId, s.id);
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => first.once('exit', r));
  assert.notEqual(emu.sessionState(s.id), 'closed', 'a head that died closed nothing');

  const second = start('--resume', 'ibm-res');
  try {
    await until('a new head', async () => (await headPid()) !== pid, 30_000);
    const r2 = await drive();
    assert.equal(emu.sessions().length, 1, 'no new session');
    assert.equal(emu.jobs().find((j) => j.id === r2.jobId)!.sessionId, s.id);
    // The session id is a fact of the task in the Orrery session.
    const store = new SessionStore({ dir: join(home, 'sessions') });
    const reader = store.open('ibm-res');
    try {
      const tasks = reader.tasks({ name: 'circuit' });
      assert.equal(tasks.length, 2);
      for (const t of tasks) assert.equal(reader.taskInfo(t.taskId).ibmSession, s.id);
    } finally {
      reader.close();
    }
  } finally {
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  }
  await until('the stopped head closed the session', () => emu.sessionState(s.id) === 'closed', 15_000);
});
