/**
 * The pieces of secrets by reference and of redaction, each alone: `secret()` on the wire, the
 * head's per-task secret values (with a fake source), masking in a worker's output, the shown
 * and stored form of a submission, and the recorder's own redaction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { secret, isSecretRef, reviveSecretMarkers } from '../../orchestrator/core/secret-ref.ts';
import { deserializeValue, serializeValue } from '../../orchestrator/core/serialization.ts';
import { installRefTracker, ObjectRef } from '../../orchestrator/core/object-ref.ts';
import {
  SecretNotFoundError,
  SecretUnavailableError,
  toErrorInfo,
  CommandFailedError,
} from '../../orchestrator/core/errors.ts';
import { REDACTED } from '../../orchestrator/core/secret-values.ts';
import { encodeArgs } from '../../orchestrator/api/arguments.ts';
import { TaskSecrets, type SecretSource } from '../../orchestrator/control/task-secrets.ts';
import { maskErrorInfo, secretMask, MASK } from '../../orchestrator/agent/secret-mask.ts';
import { describeTaskArgs } from '../../orchestrator/head/task-arguments.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import type { TaskSubmission } from '../../orchestrator/protocol/messages.ts';

const OPTIONS: TaskSubmission['options'] = {
  resources: {},
  strategy: 'DEFAULT',
  maxRetries: 3,
  retryExceptions: false,
};
const spec = (over: Partial<TaskSubmission>): TaskSubmission => ({
  taskId: 't1',
  name: 'train',
  kind: 'task',
  args: [],
  options: OPTIONS,
  ...over,
});

test('secret(name) checks the name and shows only the name', () => {
  assert.throws(() => secret('../etc'), /secret\(name\): name must be/);
  assert.throws(() => secret(''), /secret\(name\)/);
  const s = secret('wandb');
  assert.equal(inspect({ key: s }), "{ key: secret('wandb') }");
  assert.equal(JSON.stringify({ key: s }), '{"key":{"__orrery_secret__":"wandb"}}');
  const back = reviveSecretMarkers(JSON.parse(JSON.stringify([{ env: { K: s, P: 'x' } }]))) as [
    { env: { K: unknown; P: string } },
  ];
  assert.ok(isSecretRef(back[0].env.K) && back[0].env.K.name === 'wandb');
  assert.equal(back[0].env.P, 'x');
});

test('secret references travel only in task arguments: collected there, refused by put, results and actors', () => {
  const secrets: string[] = [];
  const p = serializeValue({ env: { K: secret('a') }, list: [secret('b')] }, 'argument 0 of t', undefined, { secrets });
  assert.deepEqual(secrets, ['a', 'b']);
  assert.equal(p.marked, true);
  assert.ok(!Buffer.from(p.data).includes(Buffer.from('value')), 'only names travel');
  const revived = deserializeValue(p, { actor: () => null, secret: (n) => `value-of-${n}` }) as {
    env: { K: string };
    list: string[];
  };
  assert.deepEqual(revived, { env: { K: 'value-of-a' }, list: ['value-of-b'] });
  assert.ok(
    isSecretRef((deserializeValue(p, { actor: () => null }) as { list: unknown[] }).list[0]),
    'without a hook it stays a reference',
  );
  assert.throws(
    () => serializeValue({ k: secret('a') }, 'put(value)'),
    /put\(value\) holds secret\('a'\): a secret can only be an argument of a task/,
  );
  assert.throws(
    () => encodeArgs([secret('a')], 'Counter.constructor', []),
    /argument 0 of Counter.constructor holds secret\('a'\).*passed to an actor/,
  );
  assert.ok(encodeArgs([secret('a')], 'train', [], []).length === 1);
});

test('the head reads each task secret once, holds it until forgotten, and fails clearly when it is missing or unreadable', async () => {
  const reads: string[] = [];
  const store = new Map([
    ['wandb', 'w-value'],
    ['hf', 'h-value'],
  ]);
  const source: SecretSource = {
    read: async (n) => {
      reads.push(n);
      return store.get(n);
    },
  };
  const secrets = new TaskSecrets(source);
  const s = spec({ secrets: ['wandb', 'hf'] });
  assert.equal(secrets.needsFetch(s), true);
  assert.equal(secrets.needsFetch(spec({ kind: 'actor-call', secrets: ['wandb'] })), false, 'only tasks take secrets');
  const values = await secrets.fetch(s);
  assert.deepEqual(values, { wandb: 'w-value', hf: 'h-value' });
  secrets.hold('t1', values);
  assert.equal(secrets.needsFetch(s), false);
  assert.deepEqual(secrets.of('t1'), values);
  secrets.forget('t1');
  assert.equal(secrets.of('t1'), undefined);
  assert.deepEqual(reads, ['wandb', 'hf']);
  await assert.rejects(
    secrets.fetch(spec({ secrets: ['nope'] })),
    (e: unknown) =>
      e instanceof SecretNotFoundError && /orrery secrets set nope/.test(e.message) && e.taskName === 'train',
  );
  await assert.rejects(secrets.fetch(spec({ secrets: ['../x'] })), SecretNotFoundError);
  const broken = new TaskSecrets({ read: async () => Promise.reject(new Error('no Secret Service on the bus')) });
  await assert.rejects(
    broken.fetch(spec({ secrets: ['wandb'] })),
    (e: unknown) => e instanceof SecretUnavailableError && /no Secret Service/.test(e.message),
  );
});

test("a task's secret values are masked in its output and its error; short values are left alone", () => {
  assert.equal(secretMask(['abc', '']), undefined);
  const mask = secretMask(['s3cr3t-long', 's3cr3t', 'abc'])!;
  assert.equal(mask('x s3cr3t-long y s3cr3t z abc'), `x ${MASK} y ${MASK} z abc`);
  const info = maskErrorInfo(toErrorInfo(new CommandFailedError(1, 'token s3cr3t rejected', ['curl'])), mask);
  assert.ok(!JSON.stringify(info).includes('s3cr3t'), JSON.stringify(info));
  assert.equal((info.fields as { exitCode: number }).exitCode, 1);
});

test('the shown and stored form of a submission: env values and secret-looking keys redacted, references kept, refs not taken', () => {
  const created: string[] = [];
  installRefTracker({ created: (r) => created.push(r.id) });
  try {
    const nestedRefs: string[] = [];
    const secrets: string[] = [];
    const args = encodeArgs(
      [
        {
          argv: ['python3', 'train.py'],
          env: { WANDB_API_KEY: 'plain-key', MODE: 'offline', HF_TOKEN: secret('hf') },
          inputs: { 'a.bin': new ObjectRef('obj1', true) },
        },
        { outputs: [] },
      ],
      'python3',
      nestedRefs,
      secrets,
    );
    created.length = 0;
    const shown = describeTaskArgs(
      spec({
        variant: 'command',
        args,
        secrets,
        options: { ...OPTIONS, runtimeEnv: { env: { DB_URL: 'postgres://u:p@h/db' } } },
      }),
    );
    assert.deepEqual(created, [], 'describing arguments takes no reference');
    assert.match(shown.preview, /WANDB_API_KEY: '\[redacted\]', MODE: '\[redacted\]', HF_TOKEN: secret\('hf'\)/);
    assert.match(shown.preview, /ObjectRef\(obj1\)/);
    assert.equal(shown.params, undefined, 'a nested ref is not plain data');
    assert.equal(shown.redacted, true);
    assert.deepEqual((shown.options as { runtimeEnv: unknown }).runtimeEnv, { env: { DB_URL: REDACTED } });
    for (const v of ['plain-key', 'offline', 'postgres://'])
      assert.ok(!shown.preview.includes(v) && !JSON.stringify(shown.options).includes(v), v);

    const plain = describeTaskArgs(
      spec({ args: encodeArgs([{ user: 'alice', apiKey: 'k1', lr: 0.1 }, secret('hf')], 'train', [], []) }),
    );
    assert.equal(plain.preview, "{ user: 'alice', apiKey: '[redacted]', lr: 0.1 }, secret('hf')");
    assert.equal(
      JSON.stringify(plain.params),
      '[{"user":"alice","apiKey":"[redacted]","lr":0.1},{"__orrery_secret__":"hf"}]',
    );
    assert.equal(plain.redacted, true);
    const onlyRefs = describeTaskArgs(
      spec({ variant: 'command', args: encodeArgs([{ argv: ['x'], env: { K: secret('hf') } }], 'x', [], []) }),
    );
    assert.equal(onlyRefs.redacted, false, 'a reference is not a value: such a task can be submitted again');
    assert.ok(isSecretRef((onlyRefs.params![0] as { env: { K: unknown } }).env.K));
  } finally {
    installRefTracker(undefined);
  }
});

test('the recorder redacts secret-looking params, options, facts and node labels itself', async () => {
  const root = mkdtempSync(join(tmpdir(), 'orrery-recorder-redacts-'));
  try {
    const store = new SessionStore({ dir: root });
    const values = ['param-secret-1', 'option-secret-2', 'fact-secret-3', 'label-secret-4'];
    const rec = store.record('r', { orreryVersion: 't' });
    rec.recordTaskSubmitted({
      taskId: 't',
      name: 'f',
      kind: 'task',
      params: [{ password: values[0], n: 1 }],
      options: { extra: { clientSecret: values[1] } },
    });
    rec.recordTaskInfo('t', { authToken: values[2]!, rows: 3 });
    rec.recordNode({
      nodeId: 'n',
      event: 'join',
      backend: 'b',
      resources: { CPU: 1 },
      labels: { hfToken: values[3]!, zone: 'a' },
    });
    await rec.close();
    const r = store.open('r');
    try {
      assert.deepEqual(JSON.parse(r.task('t')!.paramsJson!), [{ password: REDACTED, n: 1 }]);
      assert.deepEqual(r.taskInfo('t'), { authToken: REDACTED, rows: 3 });
      assert.deepEqual(r.nodes()[0]!.labels, { hfToken: REDACTED, zone: 'a' });
    } finally {
      r.close();
    }
    for (const f of readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
      const bytes = readFileSync(join(f.parentPath, f.name));
      for (const v of values) assert.equal(bytes.indexOf(v), -1, `${f.name} holds ${v}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
