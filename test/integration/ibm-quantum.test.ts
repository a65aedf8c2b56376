/**
 * The ibm-quantum backend against the IBM emulator (IAM + Qiskit Runtime REST on loopback), with
 * the API key in the real OS keychain. Run inside test/services/keyring.sh.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Entry } from '@napi-rs/keyring';
import * as orrery from 'orrery-compute';
import {
  checkIbmQuantumConfig,
  runOnIbm,
  IBM_API_VERSION,
  type IbmQuantumConfig,
} from '../../backends/quantum/ibm/index.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../../backends/quantum/run-types.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { startIbmEmulator, type IbmEmulator, type IbmEmulatorOptions } from '../emulators/ibm/index.ts';
import { until } from './helpers.ts';

const emulators: IbmEmulator[] = [];
const secrets: string[] = [];
after(async () => {
  for (const e of emulators) await e.close();
  for (const s of secrets) new Entry('orrery', s).deletePassword();
});

/** An emulator, its API key stored under a fresh secret name, and a config pointing at both. */
async function setup(
  options: IbmEmulatorOptions = {},
  extra: Partial<IbmQuantumConfig> = {},
): Promise<{ emu: IbmEmulator; config: IbmQuantumConfig; secret: string }> {
  const emu = await startIbmEmulator({ queueDelayMs: 30, runDelayMs: 10, ...options });
  emulators.push(emu);
  const secret = `orrery-test-ibm-${randomBytes(4).toString('hex')}`;
  new Entry('orrery', secret).setPassword(emu.apiKey);
  secrets.push(secret);
  const config = checkIbmQuantumConfig({
    name: 'ibm',
    kind: 'ibm-quantum',
    instanceCrn: emu.instanceCrn,
    apiKeySecret: secret,
    url: emu.url,
    iamUrl: emu.iamUrl,
    pollIntervalMs: 20,
    ...extra,
  });
  return { emu, config, secret };
}

/** A CircuitRun over `qasm` that records what the runner reports and logs. */
function circuitRun(qasm: string, shots: number, opts: { device?: string; signal?: AbortSignal } = {}) {
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  const run: CircuitRun = {
    circuit: parseQasm(qasm),
    source: qasm,
    shots,
    device: opts.device,
    signal: opts.signal ?? new AbortController().signal,
    report: (info) => reports.push(info),
    log: (line) => logs.push(line),
  };
  return { run, reports, logs };
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

/** |11> on q0,q4 of a line: cx q[0], q[4] acts on uncoupled qubits, so it needs SWAPs. */
const FAR_CX = `OPENQASM 3.0;
include "stdgates.inc";
qubit[5] q;
bit[5] c;
x q[0];
cx q[0], q[4];
c[0] = measure q[0];
c[1] = measure q[1];
c[2] = measure q[2];
c[3] = measure q[3];
c[4] = measure q[4];
`;

/**
 * q0 interacts with three qubits: no layout on a line gives a qubit three neighbours, so routing
 * must add SWAPs. Ends in q = [1, 1, 0, 1, 1] → key (c4..c0) "11011".
 */
const STAR = `OPENQASM 3.0;
include "stdgates.inc";
qubit[5] q;
bit[5] c;
x q[0];
cx q[0], q[1];
cx q[0], q[2];
cx q[0], q[3];
x q[2];
cx q[3], q[4];
c[0] = measure q[0];
c[1] = measure q[1];
c[2] = measure q[2];
c[3] = measure q[3];
c[4] = measure q[4];
`;

/** A 5-qubit GHZ fanned out from q0 (a star, so it also needs SWAPs on a line). */
const GHZ5 = `OPENQASM 3.0;
include "stdgates.inc";
qubit[5] q;
bit[5] c;
h q[0];
cx q[0], q[1];
cx q[0], q[2];
cx q[0], q[3];
cx q[0], q[4];
c[0] = measure q[0];
c[1] = measure q[1];
c[2] = measure q[2];
c[3] = measure q[3];
c[4] = measure q[4];
`;

/** Two registers: a = q0 (0), b = [q1, q2] = [1, 0]; Qiskit key "b1 b0 a0" = "010". */
const TWO_REGS = `OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[1] a;
bit[2] b;
x q[1];
cx q[1], q[2];
x q[2];
a[0] = measure q[0];
b[0] = measure q[1];
b[1] = measure q[2];
`;

function assertHalfHalf(r: CircuitResult, zero: string, one: string, shots: number): void {
  assert.deepEqual(
    Object.keys(r.counts).sort(),
    [zero, one].sort(),
    `only ${zero} and ${one}: ${JSON.stringify(r.counts)}`,
  );
  assert.equal((r.counts[zero] ?? 0) + (r.counts[one] ?? 0), shots);
  // 5 standard deviations of a fair binomial: fails by chance about once in 1.7 million runs.
  const sd = Math.sqrt(shots / 4);
  assert.ok(Math.abs((r.counts[zero] ?? 0) - shots / 2) < 5 * sd, JSON.stringify(r.counts));
}

test('Bell on the 5-qubit line: about half 00 and half 11; headers, job body and task facts as documented', async () => {
  const { emu, config } = await setup({}, { device: 'ibm_fake_manila' });
  const { run, reports, logs } = circuitRun(BELL, 1000);
  const r = await runOnIbm(config, run);
  assertHalfHalf(r, '00', '11', 1000);
  const job = emu.jobs().at(-1)!;
  assert.deepEqual(
    { device: r.device, backend: r.backend, shots: r.shots, jobId: r.jobId },
    { device: 'ibm_fake_manila', backend: 'ibm', shots: 1000, jobId: job.id },
  );
  assert.ok(r.durationMs > 0);

  const runtime = emu.requests.filter((q) => q.path.startsWith('/api/'));
  assert.ok(runtime.length >= 5);
  for (const q of runtime) {
    assert.equal(q.authScheme, 'Bearer', `${q.method} ${q.path}`);
    assert.equal(q.serviceCrn, emu.instanceCrn, `${q.method} ${q.path}`);
    assert.equal(q.apiVersion, IBM_API_VERSION, `${q.method} ${q.path}`);
  }
  const submit = runtime.find((q) => q.method === 'POST' && q.path === '/api/v1/jobs')!;
  const body = submit.body as {
    program_id: string;
    backend: string;
    params: { pubs: unknown[][]; shots: number; version: number };
  };
  assert.equal(body.program_id, 'sampler');
  assert.equal(body.backend, 'ibm_fake_manila');
  assert.equal(body.params.version, 2);
  assert.equal(body.params.shots, 1000);
  assert.match(String(body.params.pubs[0]![0]), /^OPENQASM 3/);

  const first = reports[0]!;
  assert.equal(first.jobId, job.id);
  assert.equal(first.device, 'ibm_fake_manila');
  assert.equal(first.queuePosition, 13, 'the 12 pending jobs of the device plus this one');
  assert.equal(first.swaps, 0);
  assert.equal(reports.at(-1)!.jobStatus, 'Completed');
  assert.ok(
    logs.some((l) => l.includes(job.id)),
    logs.join('\n'),
  );
});

test('the queue position starts at the pending jobs plus one, drops as the device queue drains, and is 0 once running', async () => {
  const { emu, config } = await setup({ queueDelayMs: 700 }, { device: 'ibm_fake_manila' });
  const manila = emu.devices.find((d) => d.name === 'ibm_fake_manila')!;
  manila.pendingJobs = 5;
  const { run, reports } = circuitRun(BELL, 100);
  const pending = runOnIbm(config, run);
  await until('the job to be submitted', () => emu.jobs().length === 1);
  manila.pendingJobs = 0;
  await pending;
  const positions = reports.map((r) => r.queuePosition).filter((p, i, all) => i === 0 || p !== all[i - 1]);
  assert.deepEqual(positions, [6, 1, 0]);
});

test('the emulator fails a circuit that is not native to the device, as the real service does (why transpiling is needed)', async () => {
  const { emu } = await setup();
  const tokenReply = await fetch(`${emu.iamUrl}/identity/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: emu.apiKey }).toString(),
  });
  const { access_token } = (await tokenReply.json()) as { access_token: string };
  const headers = {
    Authorization: `Bearer ${access_token}`,
    'Service-CRN': emu.instanceCrn,
    'Content-Type': 'application/json',
  };
  const submitted = await fetch(`${emu.url}/v1/jobs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      program_id: 'sampler',
      backend: 'ibm_fake_manila',
      params: { pubs: [[FAR_CX]], shots: 10, version: 2 },
    }),
  });
  assert.equal(submitted.status, 200);
  const { id } = (await submitted.json()) as { id: string };
  const state = await until('the raw job to finish', async () => {
    const j = (await (await fetch(`${emu.url}/v1/jobs/${id}`, { headers })).json()) as {
      state: { status: string; reason?: string };
    };
    return j.state.status === 'Queued' || j.state.status === 'Running' ? undefined : j.state;
  });
  assert.equal(state.status, 'Failed');
  assert.match(state.reason!, /instruction (x|cx) on qubits .* is not supported by the target device ibm_fake_manila/);
});

test('circuits whose CNOTs do not fit the line are routed with SWAPs and still give the right counts', async () => {
  const { config } = await setup({}, { device: 'ibm_fake_manila' });
  const far = circuitRun(FAR_CX, 200);
  assert.deepEqual((await runOnIbm(config, far.run)).counts, { '10001': 200 });

  const star = circuitRun(STAR, 200);
  assert.deepEqual((await runOnIbm(config, star.run)).counts, { '11011': 200 });
  assert.ok(Number(star.reports[0]!.swaps) > 0, `swaps reported: ${JSON.stringify(star.reports[0])}`);

  const ghz = circuitRun(GHZ5, 1000);
  assertHalfHalf(await runOnIbm(config, ghz.run), '00000', '11111', 1000);
  assert.ok(Number(ghz.reports[0]!.swaps) > 0);
});

test('ECR device with a directed coupling map: counts over the original registers', async () => {
  const { config } = await setup({}, { device: 'ibm_fake_nairobi' });
  const bell = circuitRun(BELL, 1000);
  assertHalfHalf(await runOnIbm(config, bell.run), '00', '11', 1000);
  const regs = circuitRun(TWO_REGS, 100);
  assert.deepEqual((await runOnIbm(config, regs.run)).counts, { '010': 100 });
});

test('least_busy picks the operational device with enough qubits and the fewest pending jobs', async () => {
  const { emu, config } = await setup();
  const byName = (n: string) => emu.devices.find((d) => d.name === n)!;
  assert.equal(
    (await runOnIbm(config, circuitRun(BELL, 50).run)).device,
    'ibm_fake_nairobi',
    'nairobi has 3 pending jobs, manila 12, kolkata 40',
  );
  byName('ibm_fake_nairobi').pendingJobs = 50;
  assert.equal((await runOnIbm(config, circuitRun(BELL, 50).run)).device, 'ibm_fake_manila');
  byName('ibm_fake_manila').status = 'paused';
  assert.equal(
    (await runOnIbm(config, circuitRun(BELL, 50).run)).device,
    'ibm_fake_kolkata',
    'a paused device is passed over',
  );
  byName('ibm_fake_manila').status = 'online';
  const six = `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[6] q;\nbit[6] c;\nx q[5];\nc[5] = measure q[5];\n`;
  const r = await runOnIbm(config, circuitRun(six, 20).run);
  assert.equal(r.device, 'ibm_fake_kolkata', 'manila has too few qubits and nairobi (50) is busier than kolkata (40)');
  assert.deepEqual(r.counts, { '100000': 20 });
});

test('an unknown device is an error listing the available ones; a too-small device says how many qubits are needed', async () => {
  const { emu, config } = await setup();
  await assert.rejects(
    runOnIbm(config, circuitRun(BELL, 10, { device: 'ibm_nowhere' }).run),
    (e: unknown) =>
      e instanceof BackendError &&
      !e.retryable &&
      /device ibm_nowhere is not available/.test(e.message) &&
      ['ibm_fake_manila', 'ibm_fake_nairobi', 'ibm_fake_kolkata'].every((n) => e.message.includes(n)),
  );
  const six = `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[6] q;\nbit[6] c;\nh q[0];\nc[0] = measure q[0];\n`;
  await assert.rejects(
    runOnIbm(config, circuitRun(six, 10, { device: 'ibm_fake_manila' }).run),
    (e: unknown) =>
      e instanceof BackendError && !e.retryable && /circuit needs 6 qubits; ibm_fake_manila has 5/.test(e.message),
  );
  assert.equal(emu.jobs().length, 0, 'nothing was submitted');
});

test('a token that expires while the job is polled is renewed after one 401, transparently', async () => {
  const { emu, config } = await setup({ queueDelayMs: 600 }, { device: 'ibm_fake_manila' });
  const pending = runOnIbm(config, circuitRun(BELL, 200).run);
  await until('the job to be submitted', () => emu.jobs().length === 1);
  const before = emu.tokensIssued();
  emu.expireTokens();
  const r = await pending;
  assertHalfHalf(r, '00', '11', 200);
  assert.ok(
    emu.requests.some((q) => q.status === 401 && q.token === 'expired'),
    'a poll met the expired token',
  );
  assert.equal(emu.tokensIssued(), before + 1, 'exactly one new token');
});

test('short-lived tokens are renewed ahead of expiry, before the service refuses them', async () => {
  const { emu, config } = await setup(
    { tokenLifetimeS: 1, queueDelayMs: 2200 },
    { device: 'ibm_fake_manila', pollIntervalMs: 100 },
  );
  const r = await runOnIbm(config, circuitRun(BELL, 100).run);
  assertHalfHalf(r, '00', '11', 100);
  assert.ok(emu.tokensIssued() >= 2, `tokens issued: ${emu.tokensIssued()}`);
  assert.deepEqual(
    emu.requests.filter((q) => q.status === 401),
    [],
    'no request went out with an expired token',
  );
});

test('a revoked API key gives a clear error naming the secret and how to replace it, without the key', async () => {
  const { emu, config, secret } = await setup({}, { device: 'ibm_fake_manila' });
  await runOnIbm(config, circuitRun(BELL, 10).run);
  emu.revokeApiKey();
  const logs: string[] = [];
  const { run } = circuitRun(BELL, 10);
  const err = await runOnIbm(config, { ...run, log: (l) => logs.push(l) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof BackendError, String(err));
  assert.equal(err.retryable, false);
  assert.match(err.message, new RegExp(`refused the API key in secret ${secret}`));
  assert.match(err.message, new RegExp(`orrery secrets set ${secret}`));
  assert.ok(!err.message.includes(emu.apiKey));
});

test('wrong instance CRN: a 403 that says to check instanceCrn', async () => {
  const { config } = await setup({}, { device: 'ibm_fake_manila' });
  const wrong = { ...config, instanceCrn: 'crn:v1:bluemix:public:quantum-computing:us-east:a/other:instance::' };
  await assert.rejects(
    runOnIbm(wrong, circuitRun(BELL, 10).run),
    (e: unknown) =>
      e instanceof BackendError && !e.retryable && /HTTP 403/.test(e.message) && /instanceCrn/.test(e.message),
  );
});

test('cancelling the task cancels the remote job and rejects with the abort reason', async () => {
  const { emu, config } = await setup({ queueDelayMs: 30_000 }, { device: 'ibm_fake_manila' });
  const controller = new AbortController();
  const { run, logs } = circuitRun(BELL, 100, { signal: controller.signal });
  const pending = runOnIbm(config, run);
  const job = await until('the job to be submitted', () => emu.jobs()[0]);
  const reason = new Error('task cancelled by the test');
  controller.abort(reason);
  await assert.rejects(pending, (e: unknown) => e === reason);
  assert.deepEqual(emu.cancels, [job.id]);
  assert.equal(job.status, 'Cancelled');
  assert.ok(
    logs.some((l) => l.includes(`${job.id} cancelled`)),
    logs.join('\n'),
  );
});

test('a failed job surfaces the service reason', async () => {
  const { emu, config } = await setup({}, { device: 'ibm_fake_manila' });
  emu.failNextJob('Error code 1500; the QPU lost calibration during the job', 1500);
  await assert.rejects(
    runOnIbm(config, circuitRun(BELL, 10).run),
    (e: unknown) =>
      e instanceof BackendError &&
      !e.retryable &&
      /job \w+ on ibm_fake_manila failed: Error code 1500; the QPU lost calibration/.test(e.message),
  );
});

test('429 and 5xx answers are retried with backoff', async () => {
  const { emu, config } = await setup({}, { device: 'ibm_fake_manila' });
  emu.injectErrors(3, 503);
  const r = await runOnIbm(config, circuitRun(BELL, 100).run);
  assertHalfHalf(r, '00', '11', 100);
  emu.injectErrors(2, 429);
  assertHalfHalf(await runOnIbm(config, circuitRun(BELL, 100).run), '00', '11', 100);
  assert.equal(emu.requests.filter((q) => q.status === 503).length, 3);
  assert.equal(emu.requests.filter((q) => q.status === 429).length, 2);
});

test('an unreachable service is a retryable BackendError after a few tries', async () => {
  const { emu, config } = await setup();
  await emu.close();
  emulators.splice(emulators.indexOf(emu), 1);
  await assert.rejects(
    runOnIbm(config, circuitRun(BELL, 10).run),
    (e: unknown) => e instanceof BackendError && e.retryable && /after 5 attempts/.test(e.message),
  );
});

test('the API key never appears in errors, logs, task facts or what the emulator recorded', async () => {
  const { emu, config } = await setup({}, { device: 'ibm_fake_manila' });
  const texts: string[] = [];
  const ok = circuitRun(BELL, 10);
  await runOnIbm(config, ok.run);
  texts.push(...ok.logs, JSON.stringify(ok.reports));
  emu.failNextJob('Error code 1500; failure');
  const failing = circuitRun(BELL, 10);
  await runOnIbm(config, failing.run).catch((e: Error) => texts.push(e.message, e.stack ?? ''));
  texts.push(...failing.logs);
  emu.revokeApiKey();
  await runOnIbm(config, circuitRun(BELL, 10).run).catch((e: Error) => texts.push(e.message, e.stack ?? ''));
  texts.push(JSON.stringify(emu.requests));
  assert.ok(texts.length > 5);
  for (const t of texts) assert.ok(!t.includes(emu.apiKey), t);
});

test('end to end: circuit() on an ibm-quantum backend through the public API', async () => {
  const { emu, config } = await setup({}, {});
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
      },
    ],
  });
  try {
    const bell = circuit({ backend: 'ibm', shots: 1000 });
    const r = await get(bell.remote(BELL));
    assertHalfHalf(r, '00', '11', 1000);
    assert.equal(r.backend, 'ibm');
    assert.equal(r.device, 'ibm_fake_nairobi');
    assert.equal(r.jobId, emu.jobs().at(-1)!.id);
    // The job's facts are recorded on the task for the State API, the session and the UI.
    const [row] = await state.listTasks({ filters: [['name', '=', 'circuit']] });
    const info = row!.info as Record<string, unknown>;
    assert.equal(info.jobId, r.jobId);
    assert.equal(info.device, 'ibm_fake_nairobi');
    assert.equal(typeof info.queuePosition, 'number');
  } finally {
    await shutdown();
  }
});

test('a task resubmitted after a head restart follows its job (resumeJobId) instead of submitting another', async () => {
  const { emu, config } = await setup({ queueDelayMs: 300 });
  const first = circuitRun(BELL, 500);
  const r1 = await runOnIbm(config, first.run);
  const jobs = emu.jobs().length;
  const again = circuitRun(BELL, 500);
  const r2 = await runOnIbm(config, { ...again.run, resumeJobId: r1.jobId });
  assert.equal(emu.jobs().length, jobs, 'no new job was submitted');
  assert.equal(r2.jobId, r1.jobId);
  assert.deepEqual(r2.counts, r1.counts, 'the same job gives the same samples');
  assert.ok(again.reports.some((i) => i.resumed === true));
});
