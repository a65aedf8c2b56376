/**
 * Braket device parameters (`braketOptions`) against the AWS emulator, driven by the real
 * @aws-sdk clients: the document sent follows the device's deviceParameters schema, an option
 * the device's schema lacks fails before any quantum task is created, and the emulated service
 * refuses parameters that do not fit the device.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BraketClient, CreateQuantumTaskCommand } from '@aws-sdk/client-braket';
import { checkBraketConfig, runOnBraket, type BraketConfig } from '../../backends/quantum/braket/index.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import type { CircuitRun } from '../../backends/quantum/run-types.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws/server.ts';

const SV1 = 'arn:aws:braket:::device/quantum-simulator/amazon/sv1';
const FORTE = 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1';
const BUCKET = 'amazon-braket-orrery-params';
const BELL = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n';

let emu: AwsEmulator;
let config: BraketConfig;
const savedEnv = { ...process.env };

before(async () => {
  emu = await startAwsEmulator({ buckets: [BUCKET] });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_ACCESS_KEY_ID = emu.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = emu.credentials.secretAccessKey;
  config = checkBraketConfig({
    name: 'braket',
    kind: 'braket',
    region: 'us-east-1',
    deviceArn: SV1,
    s3Bucket: BUCKET,
    endpoint: emu.endpoint,
    pollIntervalMs: 10,
  });
});

after(async () => {
  await emu.close();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

function makeRun(device: string, braketOptions: Record<string, unknown>, shots = 500): CircuitRun {
  return {
    circuit: parseQasm(BELL),
    source: BELL,
    shots,
    device,
    braketOptions,
    signal: new AbortController().signal,
    report: () => {},
    log: () => {},
  };
}

test('debiasing and disabled rewiring on an IonQ device: deviceParameters as its schema names them', async () => {
  const r = await runOnBraket(config, makeRun(FORTE, { errorMitigation: 'debias', disableQubitRewiring: true }));
  assert.equal(
    Object.values(r.counts).reduce((a, b) => a + b, 0),
    500,
  );
  assert.deepEqual(emu.braket.task(r.jobId!)!.deviceParameters, {
    braketSchemaHeader: { name: 'braket.device_schema.ionq.ionq_device_parameters', version: '1' },
    paradigmParameters: {
      braketSchemaHeader: { name: 'braket.device_schema.gate_model_parameters', version: '1' },
      qubitCount: 2,
      disableQubitRewiring: true,
    },
    errorMitigation: [{ type: 'braket.device_schema.error_mitigation.debias.Debias' }],
  });
});

test("a simulator takes disableQubitRewiring under its own schema's header; no options, no deviceParameters", async () => {
  const r = await runOnBraket(config, makeRun(SV1, { disableQubitRewiring: true }));
  const sent = emu.braket.task(r.jobId!)!.deviceParameters as { braketSchemaHeader: { name: string } };
  assert.equal(sent.braketSchemaHeader.name, 'braket.device_schema.simulators.gate_model_simulator_device_parameters');
  const plain = await runOnBraket(config, makeRun(SV1, {}));
  assert.equal(emu.braket.task(plain.jobId!)!.deviceParameters, undefined);
});

test('error mitigation on a device whose schema has none fails naming the option, before any task is created', async () => {
  const created = emu.braket.tasks().length;
  await assert.rejects(
    runOnBraket(config, makeRun(SV1, { errorMitigation: 'debias' })),
    (e: unknown) =>
      e instanceof BackendError &&
      !e.retryable &&
      /braketOptions\.errorMitigation: device SV1 \(arn:aws:braket:::device\/quantum-simulator\/amazon\/sv1\) takes no error mitigation/.test(
        e.message,
      ),
  );
  assert.equal(emu.braket.tasks().length, created, 'nothing was submitted');
});

test('the emulated service refuses parameters that do not fit the device (ValidationException), as Braket does', async () => {
  const client = new BraketClient({ region: 'us-east-1', endpoint: emu.endpoint });
  const action = JSON.stringify({
    braketSchemaHeader: { name: 'braket.ir.openqasm.program', version: '1' },
    source: BELL,
  });
  const send = (deviceParameters: unknown) =>
    client.send(
      new CreateQuantumTaskCommand({
        deviceArn: SV1,
        shots: 10,
        action,
        outputS3Bucket: BUCKET,
        outputS3KeyPrefix: 'p',
        deviceParameters: JSON.stringify(deviceParameters),
      }),
    );
  const gate = {
    braketSchemaHeader: { name: 'braket.device_schema.gate_model_parameters', version: '1' },
    qubitCount: 2,
  };
  await assert.rejects(
    send({
      braketSchemaHeader: { name: 'braket.device_schema.ionq.ionq_device_parameters', version: '1' },
      paradigmParameters: gate,
    }),
    (e: unknown) => (e as Error).name === 'ValidationException' && /is not valid for device/.test((e as Error).message),
  );
  await assert.rejects(
    send({
      braketSchemaHeader: {
        name: 'braket.device_schema.simulators.gate_model_simulator_device_parameters',
        version: '1',
      },
      paradigmParameters: gate,
      errorMitigation: [{ type: 'braket.device_schema.error_mitigation.debias.Debias' }],
    }),
    (e: unknown) =>
      (e as Error).name === 'ValidationException' && /extra field errorMitigation/.test((e as Error).message),
  );
  client.destroy();
});
