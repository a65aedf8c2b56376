/**
 * The Amazon Braket REST-JSON API (signing name `braket`): CreateQuantumTask, GetQuantumTask
 * (with the QueueInfo attribute), CancelQuantumTask, GetDevice, SearchDevices. Tasks go
 * QUEUED -> RUNNING -> COMPLETED on timers the test controls; a completed task is simulated with
 * Orrery's simulator and its results.json (GateModelTaskResult v1) written to the emulated S3 at
 * `<outputS3KeyPrefix>/<task id>/results.json`, the outputS3Directory GetQuantumTask reports.
 * Devices that list `braket.ir.openqasm.program_set` take program sets (braket-program-sets.ts);
 * others refuse them with a ValidationException.
 * https://docs.aws.amazon.com/braket/latest/APIReference/
 */
import { randomUUID } from 'node:crypto';
import type { Circuit, Operation } from '../../../backends/quantum/circuit.ts';
import { parseQasm } from '../../../backends/quantum/qasm/index.ts';
import { QasmError } from '../../../backends/quantum/qasm/qasm-error.ts';
import { simulate } from '../../../backends/quantum/simulator/index.ts';
import {
  capabilitiesOf,
  defaultDevices,
  deviceRegion,
  parametersHeaderOf,
  takesErrorMitigation,
  type EmulatedDevice,
} from './braket-devices.ts';
import {
  jsonAuthError,
  jsonError,
  jsonReply,
  type AuthFailure,
  type AwsReply,
  type AwsRequest,
  type AwsServiceModule,
} from './replies.ts';
import type { S3Emulator } from './s3.ts';
import { checkProgramSet, programSetResult, type CheckedProgramSet } from './braket-program-sets.ts';

/** Quantum task states (the real service's, minus CREATED which the emulator skips). */
export type TaskStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLING' | 'CANCELLED';

/** A task as the emulator holds it. */
export interface EmulatedTask {
  readonly arn: string;
  readonly id: string;
  readonly deviceArn: string;
  readonly shots: number;
  readonly outputS3Bucket: string;
  readonly outputS3Directory: string;
  readonly clientToken: string;
  readonly action: Record<string, unknown>;
  /** `deviceParameters` as submitted (parsed), if any. */
  readonly deviceParameters?: unknown;
  /** The program's circuit (a program set's first executable). */
  readonly circuit: Circuit;
  /** The checked program set of a `braket.ir.openqasm.program_set` task. */
  readonly programSet?: CheckedProgramSet;
  readonly tags: Record<string, string>;
  readonly createdAt: Date;
  status: TaskStatus;
  endedAt?: Date;
  failureReason?: string;
  timer?: NodeJS.Timeout;
}

/** Options of the Braket module. */
export interface BraketEmulatorOptions {
  /** Time a task spends QUEUED, ms (default 30). */
  readonly queuedMs?: number;
  /** Time a task spends RUNNING, ms (default 20). */
  readonly runningMs?: number;
  /** Seed of the simulator's sampling (default: random per task). */
  readonly seed?: number;
  /** The account id in task ARNs. */
  readonly accountId?: string;
}

const OPENQASM = 'braket.ir.openqasm.program';
const PROGRAM_SET = 'braket.ir.openqasm.program_set';

/** The emulated Braket service plus its test controls. */
export class BraketEmulator implements AwsServiceModule {
  readonly signingName = 'braket';
  readonly uriEscapePath = true;
  private readonly devices = new Map<string, EmulatedDevice>(defaultDevices().map((d) => [d.arn, d]));
  private readonly tasksByArn = new Map<string, EmulatedTask>();
  private readonly tokens = new Map<string, string>();
  private queuedMs: number;
  private runningMs: number;
  private ahead = 0;
  private failures: string[] = [];
  private executableFailures = new Map<number, string>();
  private injected: { kind: 'throttle' | 'internal'; count: number } | undefined;
  /** Every operation called, in order, e.g. `CancelQuantumTask arn:...`. */
  readonly calls: string[] = [];

  constructor(
    private readonly s3: S3Emulator,
    private readonly options: BraketEmulatorOptions = {},
  ) {
    this.queuedMs = options.queuedMs ?? 30;
    this.runningMs = options.runningMs ?? 20;
  }

  /** Sets how long tasks stay QUEUED and RUNNING from now on. */
  setDelays(d: { queuedMs?: number; runningMs?: number }): void {
    this.queuedMs = d.queuedMs ?? this.queuedMs;
    this.runningMs = d.runningMs ?? this.runningMs;
  }

  /** Other customers' tasks ahead of every new task in each device queue (raises queue positions). */
  setQueueAhead(n: number): void {
    this.ahead = n;
  }

  /** In the next program-set task to complete, the executable at `index` fails with `reason`. */
  failNextExecutable(index: number, reason: string): void {
    this.executableFailures.set(index, reason);
  }

  /** The next task to run ends FAILED with this failureReason. */
  failNextTask(reason: string): void {
    this.failures.push(reason);
  }

  /** The next `count` Braket requests fail with 429 ThrottlingException or 500 InternalServiceException. */
  injectErrors(kind: 'throttle' | 'internal', count: number): void {
    this.injected = { kind, count };
  }

  setDeviceStatus(arn: string, status: EmulatedDevice['status']): void {
    const d = this.devices.get(arn);
    if (!d) throw new Error(`no emulated device ${arn}`);
    d.status = status;
  }

  addDevice(d: EmulatedDevice): void {
    this.devices.set(d.arn, { ...d });
  }

  task(arn: string): EmulatedTask | undefined {
    return this.tasksByArn.get(arn);
  }

  tasks(): EmulatedTask[] {
    return [...this.tasksByArn.values()];
  }

  /** Stops all timers (the server is closing). */
  close(): void {
    for (const t of this.tasksByArn.values()) clearTimeout(t.timer);
  }

  authError(failure: AuthFailure): AwsReply {
    return jsonAuthError(failure);
  }

  handle(req: AwsRequest): AwsReply {
    if (this.injected && this.injected.count > 0) {
      this.injected.count--;
      return this.injected.kind === 'throttle'
        ? jsonError(429, 'ThrottlingException', 'Rate exceeded')
        : jsonError(500, 'InternalServiceException', 'An internal service error occurred');
    }
    const seg = req.rawPath
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
    const route = `${req.method} /${seg[0] ?? ''}${seg.length > 1 ? '/{}' : ''}${seg.length > 2 ? `/${seg[2]}` : ''}`;
    switch (route) {
      case 'POST /quantum-task':
        return this.createQuantumTask(req);
      case 'GET /quantum-task/{}':
        return this.getQuantumTask(seg[1]!, req.query.getAll('additionalAttributeNames'));
      case 'PUT /quantum-task/{}/cancel':
        return this.cancelQuantumTask(seg[1]!);
      case 'GET /device/{}':
        return this.getDevice(seg[1]!, req.region);
      case 'POST /devices':
        return this.searchDevices(req);
      default:
        return jsonError(
          404,
          'UnknownOperationException',
          `no emulated Braket operation for ${req.method} ${req.rawPath}`,
        );
    }
  }

  private findDevice(arn: string, region: string): EmulatedDevice | undefined {
    const d = this.devices.get(arn);
    const r = d && deviceRegion(d.arn);
    return d && (r === '' || r === region) ? d : undefined;
  }

  private getDevice(arn: string, region: string): AwsReply {
    this.calls.push(`GetDevice ${arn}`);
    const d = this.findDevice(arn, region);
    if (!d) return jsonError(404, 'ResourceNotFoundException', `Braket device '${arn}' not found`);
    const queued = this.tasks().filter((t) => t.deviceArn === arn && t.status === 'QUEUED').length + this.ahead;
    return jsonReply(200, {
      deviceArn: d.arn,
      deviceName: d.name,
      providerName: d.provider,
      deviceType: d.type,
      deviceStatus: d.status,
      deviceCapabilities: capabilitiesOf(d),
      deviceQueueInfo: [
        { queue: 'QUANTUM_TASKS_QUEUE', queueSize: String(queued), queuePriority: 'Normal' },
        { queue: 'QUANTUM_TASKS_QUEUE', queueSize: '0', queuePriority: 'Priority' },
        { queue: 'JOBS_QUEUE', queueSize: '0' },
      ],
    });
  }

  private searchDevices(req: AwsRequest): AwsReply {
    this.calls.push('SearchDevices');
    const body = parseJson(req.body) as { filters?: { name: string; values: string[] }[] } | undefined;
    const field: Record<string, (d: EmulatedDevice) => string> = {
      deviceArn: (d) => d.arn,
      deviceName: (d) => d.name,
      providerName: (d) => d.provider,
      deviceType: (d) => d.type,
      deviceStatus: (d) => d.status,
    };
    let devices = [...this.devices.values()].filter((d) => this.findDevice(d.arn, req.region));
    for (const f of body?.filters ?? []) {
      const get = field[f.name];
      if (!get) return jsonError(400, 'ValidationException', `unsupported filter name ${f.name}`);
      devices = devices.filter((d) => f.values.includes(get(d)));
    }
    return jsonReply(200, {
      devices: devices.map((d) => ({
        deviceArn: d.arn,
        deviceName: d.name,
        providerName: d.provider,
        deviceType: d.type,
        deviceStatus: d.status,
      })),
    });
  }

  private createQuantumTask(req: AwsRequest): AwsReply {
    const body = parseJson(req.body) as Record<string, unknown> | undefined;
    if (!body) return jsonError(400, 'ValidationException', 'the request body is not valid JSON');
    for (const field of ['deviceArn', 'shots', 'outputS3Bucket', 'outputS3KeyPrefix', 'action']) {
      if (body[field] === undefined || body[field] === null)
        return jsonError(
          400,
          'ValidationException',
          `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
        );
    }
    const { deviceArn, shots, outputS3Bucket } = body as { deviceArn: string; shots: number; outputS3Bucket: string };
    const clientToken = typeof body.clientToken === 'string' ? body.clientToken : randomUUID();
    this.calls.push(`CreateQuantumTask ${deviceArn}`);
    const earlier = this.tokens.get(clientToken);
    if (earlier) return jsonReply(201, { quantumTaskArn: earlier });
    const device = this.findDevice(deviceArn, req.region);
    if (!device) return jsonError(404, 'ResourceNotFoundException', `Braket device '${deviceArn}' not found`);
    if (device.status === 'OFFLINE') return jsonError(424, 'DeviceOfflineException', `Device ${deviceArn} is offline`);
    if (device.status === 'RETIRED') return jsonError(410, 'DeviceRetiredException', `Device ${deviceArn} is retired`);
    if (!this.s3.hasBucket(outputS3Bucket)) {
      return jsonError(
        400,
        'ValidationException',
        `Caller doesn't have access to ${outputS3Bucket} or it doesn't exist.`,
      );
    }
    const action = parseJson(Buffer.from(typeof body.action === 'string' ? body.action : '')) as
      | { braketSchemaHeader?: { name?: string; version?: string }; source?: unknown; inputs?: unknown }
      | undefined;
    const actionName = action?.braketSchemaHeader?.name ?? '';
    if (action && actionName === PROGRAM_SET && action.braketSchemaHeader?.version === '1') {
      if (!device.actions.includes(PROGRAM_SET))
        return jsonError(400, 'ValidationException', `Device ${deviceArn} does not support action ${PROGRAM_SET}`);
      const badSetParameters = deviceParametersProblem(device, body.deviceParameters);
      if (badSetParameters) return jsonError(400, 'ValidationException', badSetParameters);
      const set = checkProgramSet(device, action, shots);
      if (typeof set === 'string') return jsonError(400, 'ValidationException', set);
      return this.accept(req, body, action, set.executables[0]!.circuit, clientToken, set);
    }
    if (!Number.isInteger(shots) || shots < Math.max(1, device.shotsRange[0]) || shots > device.shotsRange[1]) {
      return jsonError(
        400,
        'ValidationException',
        `Shots ${shots} is not in the device's supported range [${device.shotsRange.join(', ')}] for programs without result types`,
      );
    }
    if (!action || typeof action.source !== 'string' || action.braketSchemaHeader?.version !== '1') {
      return jsonError(
        400,
        'ValidationException',
        `action is not a valid ${OPENQASM} v1 document: it needs braketSchemaHeader {name, version: '1'} and a source string`,
      );
    }
    if (!device.actions.includes(actionName))
      return jsonError(400, 'ValidationException', `Device ${deviceArn} does not support action ${actionName}`);
    const badParameters = deviceParametersProblem(device, body.deviceParameters);
    if (badParameters) return jsonError(400, 'ValidationException', badParameters);
    let circuit: Circuit;
    try {
      circuit = parseQasm(action.source, (action.inputs ?? {}) as Record<string, number>);
    } catch (err) {
      if (err instanceof QasmError)
        return jsonError(400, 'ValidationException', `Invalid OpenQASM program: ${err.message}`);
      throw err;
    }
    if (circuit.numQubits > device.qubitCount) {
      return jsonError(
        400,
        'ValidationException',
        `Number of qubits ${circuit.numQubits} exceeds the ${device.qubitCount} qubits of device ${deviceArn}`,
      );
    }
    const reused = reusedAfterMeasurement(circuit.ops);
    if (reused !== undefined)
      return jsonError(
        400,
        'ValidationException',
        `Qubit ${reused} is used after it was measured; mid-circuit measurement is not supported on ${device.name}`,
      );
    return this.accept(req, body, action, circuit, clientToken);
  }

  /** Queues a task that passed the checks. */
  private accept(
    req: AwsRequest,
    body: Record<string, unknown>,
    action: object,
    circuit: Circuit,
    clientToken: string,
    programSet?: CheckedProgramSet,
  ): AwsReply {
    const { deviceArn, shots, outputS3Bucket, outputS3KeyPrefix } = body as {
      deviceArn: string;
      shots: number;
      outputS3Bucket: string;
      outputS3KeyPrefix: string;
    };
    const id = randomUUID();
    const arn = `arn:aws:braket:${req.region}:${this.options.accountId ?? '123456789012'}:quantum-task/${id}`;
    const task: EmulatedTask = {
      arn,
      id,
      deviceArn,
      shots,
      outputS3Bucket,
      outputS3Directory: `${outputS3KeyPrefix}/${id}`,
      clientToken,
      action: action as Record<string, unknown>,
      ...(typeof body.deviceParameters === 'string' && {
        deviceParameters: parseJson(Buffer.from(body.deviceParameters)),
      }),
      circuit,
      ...(programSet && { programSet }),
      tags: (body.tags ?? {}) as Record<string, string>,
      createdAt: new Date(),
      status: 'QUEUED',
    };
    this.tasksByArn.set(arn, task);
    this.tokens.set(clientToken, arn);
    task.timer = setTimeout(() => this.start(task), this.queuedMs);
    return jsonReply(201, { quantumTaskArn: arn });
  }

  private start(task: EmulatedTask): void {
    task.status = 'RUNNING';
    task.timer = setTimeout(() => this.finish(task), this.runningMs);
  }

  private finish(task: EmulatedTask): void {
    task.timer = undefined;
    task.endedAt = new Date();
    const failure = this.failures.shift();
    if (failure !== undefined) {
      task.status = 'FAILED';
      task.failureReason = failure;
      return;
    }
    if (task.programSet) {
      const result = programSetResult(
        { ...task, endedAt: task.endedAt },
        task.programSet,
        (c, shots) => measure(c, shots, this.options.seed),
        this.executableFailures,
      );
      this.executableFailures = new Map();
      this.s3.putObject(
        task.outputS3Bucket,
        `${task.outputS3Directory}/results.json`,
        JSON.stringify(result),
        'application/json',
      );
      task.status = 'COMPLETED';
      return;
    }
    const t0 = performance.now();
    const { measuredQubits, measurements } = measure(task.circuit, task.shots, this.options.seed);
    const result = {
      braketSchemaHeader: { name: 'braket.task_result.gate_model_task_result', version: '1' },
      measurements,
      measuredQubits,
      taskMetadata: {
        braketSchemaHeader: { name: 'braket.task_result.task_metadata', version: '1' },
        id: task.arn,
        shots: task.shots,
        deviceId: task.deviceArn,
        createdAt: task.createdAt.toISOString(),
        endedAt: task.endedAt.toISOString(),
        status: 'COMPLETED',
      },
      additionalMetadata: {
        action: task.action,
        simulatorMetadata: {
          braketSchemaHeader: { name: 'braket.task_result.simulator_metadata', version: '1' },
          executionDuration: Math.round(performance.now() - t0),
        },
      },
    };
    this.s3.putObject(
      task.outputS3Bucket,
      `${task.outputS3Directory}/results.json`,
      JSON.stringify(result),
      'application/json',
    );
    task.status = 'COMPLETED';
  }

  private getQuantumTask(arn: string, attributes: string[]): AwsReply {
    this.calls.push(`GetQuantumTask ${arn}`);
    const t = this.tasksByArn.get(arn);
    if (!t) return jsonError(404, 'ResourceNotFoundException', `Quantum task ${arn} not found`);
    const out: Record<string, unknown> = {
      quantumTaskArn: t.arn,
      status: t.status,
      deviceArn: t.deviceArn,
      deviceParameters: '{}',
      shots: t.shots,
      outputS3Bucket: t.outputS3Bucket,
      outputS3Directory: t.outputS3Directory,
      createdAt: t.createdAt.toISOString(),
      tags: t.tags,
      ...(t.endedAt ? { endedAt: t.endedAt.toISOString() } : {}),
      ...(t.failureReason ? { failureReason: t.failureReason } : {}),
    };
    if (attributes.includes('QueueInfo')) {
      out.queueInfo =
        t.status === 'QUEUED'
          ? { queue: 'QUANTUM_TASKS_QUEUE', position: String(this.positionOf(t)), queuePriority: 'Normal' }
          : {
              queue: 'QUANTUM_TASKS_QUEUE',
              position: 'None',
              queuePriority: 'Normal',
              message: `Task is in ${t.status} status. AmazonBraket does not show queue position for this status.`,
            };
    }
    return jsonReply(200, out);
  }

  private positionOf(t: EmulatedTask): number {
    return (
      this.ahead +
      1 +
      this.tasks().filter(
        (o) => o !== t && o.deviceArn === t.deviceArn && o.status === 'QUEUED' && o.createdAt <= t.createdAt,
      ).length
    );
  }

  private cancelQuantumTask(arn: string): AwsReply {
    this.calls.push(`CancelQuantumTask ${arn}`);
    const t = this.tasksByArn.get(arn);
    if (!t) return jsonError(404, 'ResourceNotFoundException', `Quantum task ${arn} not found`);
    if (t.status === 'COMPLETED' || t.status === 'FAILED')
      return jsonError(
        409,
        'ConflictException',
        `Quantum task ${arn} is in terminal state ${t.status} and cannot be cancelled`,
      );
    if (t.status === 'QUEUED' || t.status === 'RUNNING') {
      clearTimeout(t.timer);
      t.status = 'CANCELLING';
      t.timer = setTimeout(() => {
        t.status = 'CANCELLED';
        t.endedAt = new Date();
      }, 10);
    }
    return jsonReply(200, {
      quantumTaskArn: arn,
      cancellationStatus: t.status === 'CANCELLED' ? 'CANCELLED' : 'CANCELLING',
    });
  }
}

/** The first qubit a gate or reset touches after it was measured (Braket measures at the end). */
function reusedAfterMeasurement(ops: readonly Operation[]): number | undefined {
  const measured = new Set<number>();
  for (const op of ops) {
    if (op.kind === 'measure') measured.add(op.qubit);
    else if (op.kind === 'gate') {
      const q = op.qubits.find((x) => measured.has(x));
      if (q !== undefined) return q;
    } else if (op.kind === 'reset' && measured.has(op.qubit)) return op.qubit;
  }
  return undefined;
}

/**
 * Shots as Braket reports them: one row per shot, one column per measured qubit in ascending
 * qubit order (every qubit when the program measures none), in shot order rather than grouped.
 */
function measure(
  circuit: Circuit,
  shots: number,
  seed: number | undefined,
): { measuredQubits: number[]; measurements: number[][] } {
  const named = [...new Set(circuit.ops.flatMap((op) => (op.kind === 'measure' ? [op.qubit] : [])))].sort(
    (a, b) => a - b,
  );
  const measuredQubits = named.length > 0 ? named : Array.from({ length: circuit.numQubits }, (_, q) => q);
  const k = measuredQubits.length;
  const perQubit: Circuit = {
    numQubits: circuit.numQubits,
    numClbits: k,
    qregs: circuit.qregs,
    cregs: [{ name: 'braket', size: k, offset: 0 }],
    ops: [
      ...circuit.ops.filter((op) => op.kind !== 'measure'),
      ...measuredQubits.map((qubit, clbit): Operation => ({ kind: 'measure', qubit, clbit })),
    ],
  };
  const { counts } = simulate(perQubit, { shots, seed });
  const rows: number[][] = [];
  for (const [bits, n] of Object.entries(counts)) {
    const row = measuredQubits.map((_, i) => Number(bits[k - 1 - i]));
    for (let s = 0; s < n; s++) rows.push(row);
  }
  let state = (seed ?? Date.now()) >>> 0;
  for (let i = rows.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return { measuredQubits, measurements: rows };
}

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Why `deviceParameters` (a JSON string) does not fit the device's parameters schema, or undefined when it does (or is absent). */
function deviceParametersProblem(device: EmulatedDevice, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const p = parseJson(Buffer.from(typeof raw === 'string' ? raw : '')) as Record<string, unknown> | undefined;
  const expected = parametersHeaderOf(device);
  if (!p || typeof p !== 'object') return 'deviceParameters is not a JSON document';
  const header = (p.braketSchemaHeader as { name?: unknown } | undefined)?.name;
  if (header !== expected)
    return `Device parameters schema ${String(header)} is not valid for device ${device.arn} (expected ${expected ?? 'none'})`;
  for (const k of Object.keys(p))
    if (
      ![
        'braketSchemaHeader',
        'paradigmParameters',
        ...(takesErrorMitigation(device) ? ['errorMitigation'] : []),
      ].includes(k)
    )
      return `Invalid device parameters for ${device.arn}: extra field ${k} not permitted`;
  const paradigm = p.paradigmParameters as Record<string, unknown> | undefined;
  if (!paradigm || !Number.isInteger(paradigm.qubitCount))
    return `Invalid device parameters for ${device.arn}: paradigmParameters.qubitCount is required`;
  for (const k of Object.keys(paradigm))
    if (!['braketSchemaHeader', 'qubitCount', 'disableQubitRewiring'].includes(k))
      return `Invalid device parameters for ${device.arn}: extra field paradigmParameters.${k} not permitted`;
  const em = p.errorMitigation;
  if (
    em !== undefined &&
    (!Array.isArray(em) ||
      em.some((x) => (x as { type?: unknown })?.type !== 'braket.device_schema.error_mitigation.debias.Debias'))
  )
    return `Invalid device parameters for ${device.arn}: errorMitigation must list Debias schemes`;
  return undefined;
}
