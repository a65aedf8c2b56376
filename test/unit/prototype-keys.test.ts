/**
 * The second line behind name validation: wherever a user-chosen name is a key (resource sets,
 * the scheduler's node and bundle maps, task summaries, the status view, usage), a name such as
 * `__proto__` or `constructor` is an ordinary key of its own, and Object.prototype stays clean.
 * Validation is bypassed here on purpose: the keys come in as the wire delivers them (own keys
 * of deserialized objects), from an agent's hello, a recorded session or a raw request.
 */
// biome-ignore-all lint/complexity/useLiteralKeys: ['__proto__'], ['constructor'] and ['prototype'] are written as the hostile keys under test
// biome-ignore-all lint/suspicious/noProto: reading a key named __proto__ is what this file tests
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addResources,
  amountsOf,
  fits,
  missingResource,
  subtractResources,
  unitsOf,
} from '../../orchestrator/core/resources.ts';
import { fromErrorInfo, TaskError } from '../../orchestrator/core/errors.ts';
import { actorHandle } from '../../orchestrator/api/actor.ts';
import { ClusterScheduler } from '../../orchestrator/scheduler/cluster-scheduler.ts';
import { summarize } from '../../orchestrator/head/state-api.ts';
import { Head } from '../../orchestrator/head/head.ts';
import { statusView, usedAmounts } from '../../orchestrator/service/status-view.ts';
import { stripSecretKeys } from '../../orchestrator/sessions/secret-keys.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import { encodeFrame } from '../../orchestrator/protocol/frames.ts';
import { PROTOCOL_VERSION } from '../../orchestrator/protocol/version.ts';
import type { ReadonlyTask } from '../../orchestrator/control/task-record.ts';
import type { SchedulerDecision } from '../../orchestrator/scheduler/types.ts';

const RESERVED = ['__proto__', 'constructor', 'prototype'] as const;

/** An object whose own keys are `entries`, as JSON.parse and v8 deserialization make them. */
function own<V>(entries: readonly (readonly [string, V])[]): Record<string, V> {
  return JSON.parse(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
}

/** Fails when anything was added to Object.prototype (and removes it, so one failure does not cascade). */
function assertPrototypeClean(): void {
  const added = Object.getOwnPropertyNames(Object.prototype).filter((k) => !BASELINE.includes(k));
  for (const k of added) delete (Object.prototype as Record<string, unknown>)[k];
  assert.deepEqual(added, [], 'Object.prototype was polluted');
}
const BASELINE = Object.getOwnPropertyNames(Object.prototype);
afterEach(assertPrototypeClean);

test('resource sets keep reserved names as their own keys and never read them from the prototype', () => {
  const set = unitsOf(own(RESERVED.map((k, i) => [k, i + 1])));
  assert.deepEqual(Object.entries(set), [
    ['__proto__', 10_000],
    ['constructor', 20_000],
    ['prototype', 30_000],
  ]);
  assert.equal(Object.getPrototypeOf(set), Object.prototype);
  assert.deepEqual(Object.entries(amountsOf(set)), [
    ['__proto__', 1],
    ['constructor', 2],
    ['prototype', 3],
  ]);
  const sum = addResources(unitsOf({ CPU: 1 }), set);
  assert.deepEqual(Object.entries(sum), [
    ['CPU', 10_000],
    ['__proto__', 10_000],
    ['constructor', 20_000],
    ['prototype', 30_000],
  ]);
  assert.deepEqual(Object.entries(subtractResources(unitsOf({ CPU: 1 }), set)), [
    ['CPU', 10_000],
    ['__proto__', -10_000],
    ['constructor', -20_000],
    ['prototype', -30_000],
  ]);
  for (const k of RESERVED) {
    const want = unitsOf(own([[k, 1]]));
    assert.equal(fits(unitsOf({ CPU: 4 }), want), false, `a set without ${k} does not fit a request for it`);
    assert.equal(missingResource(unitsOf({ CPU: 4 }), want), k);
    assert.equal(fits(set, want), true);
  }
});

test('the scheduler places work needing a reserved resource only on a node that has it', () => {
  const s = new ClusterScheduler({ infeasibleGraceMs: 5000 });
  s.handle({
    type: 'node-added',
    node: { nodeId: 'plain', backend: 'b', total: unitsOf({ CPU: 4 }), labels: {} },
    now: 0,
  });
  const decisions: SchedulerDecision[] = [];
  for (const k of RESERVED) {
    decisions.push(
      ...s.handle({
        type: 'queued',
        request: {
          requestId: `t-${k}`,
          resources: unitsOf(
            own([
              ['CPU', 1],
              [k, 1],
            ]),
          ),
          strategy: 'DEFAULT',
        },
        now: 0,
      }),
    );
  }
  assert.deepEqual(
    decisions.map((d) => d.type),
    ['infeasible', 'infeasible', 'infeasible'],
    JSON.stringify(decisions),
  );
  const joined = s.handle({
    type: 'node-added',
    node: {
      nodeId: 'special',
      backend: '__proto__',
      total: unitsOf(own([['CPU', 4], ...RESERVED.map((k) => [k, 1] as const)])),
      labels: own([['constructor', 'x']]),
    },
    now: 0,
  });
  assert.deepEqual(
    joined.filter((d) => d.type === 'assign').map((d) => d.type === 'assign' && d.nodeId),
    ['special', 'special', 'special'],
  );
  assert.deepEqual(Object.entries(s.available('special')!), [
    ['CPU', 10_000],
    ['__proto__', 0],
    ['constructor', 0],
    ['prototype', 0],
  ]);
  for (const k of RESERVED) s.handle({ type: 'released', leaseId: `t-${k}`, now: 1 });
  assert.deepEqual(Object.entries(s.available('special')!), [
    ['CPU', 40_000],
    ['__proto__', 10_000],
    ['constructor', 10_000],
    ['prototype', 10_000],
  ]);
  const pg = s.handle({
    type: 'pg-create',
    group: {
      placementGroupId: 'g',
      strategy: 'STRICT_PACK',
      bundles: [unitsOf(own([['__proto__', 1]])), unitsOf(own([['constructor', 1]]))],
    },
    now: 2,
  });
  assert.deepEqual(pg, [{ type: 'pg-ready', placementGroupId: 'g', nodeIds: ['special', 'special'] }]);
});

test('the task summary counts tasks named __proto__, constructor and prototype', () => {
  const record = (name: string, state: ReadonlyTask['state']) =>
    ({ spec: { taskId: name + state, name, kind: 'task' }, state }) as unknown as ReadonlyTask;
  const tasks = RESERVED.flatMap((n) => [record(n, 'FINISHED'), record(n, 'FAILED'), record(n, 'FAILED')]);
  const summary = summarize(tasks, [{ record: record('__proto__', 'FINISHED'), count: 5 }]);
  assert.deepEqual(Object.keys(summary), [...RESERVED]);
  assert.deepEqual({ ...summary['__proto__']!.stateCounts }, { FINISHED: 6, FAILED: 2 });
  assert.deepEqual({ ...summary['constructor']!.stateCounts }, { FINISHED: 1, FAILED: 2 });
  assert.equal(summary['prototype']!.name, 'prototype');
});

test('a recorded session with a task named __proto__ summarises it by name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-proto-'));
  try {
    const store = new SessionStore({ dir });
    const rec = store.record('s1', { orreryVersion: '0.1.0', onError: () => {} });
    for (const [i, name] of RESERVED.entries()) {
      rec.recordTaskSubmitted({ taskId: `t${i}`, name, kind: 'task', argsPreview: '' });
      rec.recordTaskState(`t${i}`, { state: 'FINISHED', ts: 1 });
    }
    await rec.close();
    const reader = store.open('s1');
    const summary = reader.summary();
    reader.close();
    assert.deepEqual(Object.keys(summary.byName), [...RESERVED]);
    assert.deepEqual({ ...summary.byName['__proto__'] }, { FINISHED: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a node whose hello names reserved resources and labels: cluster resources, status and usage keep them, under a backend named __proto__', async () => {
  const head = new Head({ log: () => {} });
  try {
    const fromAgent = new PassThrough();
    const joined = head.attach(
      { input: fromAgent, output: new PassThrough(), kill: () => {} },
      { nodeId: 'n1', backend: '__proto__' },
    );
    const resources = own([
      ['CPU', 2],
      ['__proto__', 1],
      ['constructor', 2],
      ['prototype', 3],
    ]);
    for (const b of encodeFrame([
      {
        type: 'hello',
        nodeId: 'n1',
        resources,
        labels: own([['constructor', 'yes']]),
        pid: 1,
        version: PROTOCOL_VERSION,
      },
    ]))
      fromAgent.write(b);
    await joined;
    const total = head.queries.state('cluster-resources');
    assert.deepEqual(Object.entries(total), [
      ['CPU', 2],
      ['__proto__', 1],
      ['constructor', 2],
      ['prototype', 3],
    ]);
    const status = statusView(head, 0);
    assert.deepEqual(Object.keys(status.backends), ['__proto__']);
    assert.equal(status.backends['__proto__']!.alive, 1);
    assert.deepEqual(Object.entries(status.backends['__proto__']!.total), [
      ['CPU', 2],
      ['__proto__', 1],
      ['constructor', 2],
      ['prototype', 3],
    ]);
    assert.deepEqual(Object.entries(status.resources.used), [
      ['CPU', 0],
      ['__proto__', 0],
      ['constructor', 0],
      ['prototype', 0],
    ]);
    assert.equal(JSON.parse(JSON.stringify(status)).backends.__proto__.alive, 1);
  } finally {
    await head.shutdown();
  }
});

test('usage, errors and recorded configs with reserved keys', () => {
  const used = usedAmounts(
    own([
      ['__proto__', 3],
      ['constructor', 2],
    ]),
    own([['__proto__', 1]]),
  );
  assert.deepEqual(Object.entries(used), [
    ['__proto__', 2],
    ['constructor', 2],
  ]);
  const err = fromErrorInfo({ name: 'constructor', message: 'thrown by a task' });
  assert.ok(err instanceof Error);
  assert.equal(err.message, 'thrown by a task');
  const crafted = fromErrorInfo({
    name: 'TaskError',
    message: 'm',
    fields: own<unknown>([
      ['__proto__', { forged: true }],
      ['taskName', 't'],
    ]),
  });
  assert.ok(crafted instanceof TaskError, "a field named __proto__ replaced the error's prototype");
  assert.equal((crafted as TaskError).taskName, 't');
  const handle = actorHandle({
    actorId: 'a1',
    className: 'Odd',
    methods: ['__proto__', 'constructor', 'prototype'],
    asyncMethods: false,
  }) as unknown as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(handle), Object.prototype);
  for (const m of RESERVED)
    assert.equal(
      typeof (Object.getOwnPropertyDescriptor(handle, m)?.value as { remote?: unknown } | undefined)?.remote,
      'function',
      m,
    );
  const { value } = stripSecretKeys({ name: 'b', labels: own([['__proto__', { polluted: true }]]) });
  const labels = (value as { labels: Record<string, unknown> }).labels;
  assert.equal(Object.getPrototypeOf(labels), Object.prototype);
  assert.deepEqual(Object.keys(labels), ['__proto__']);
  assert.equal((labels as { polluted?: boolean }).polluted, undefined);
});
