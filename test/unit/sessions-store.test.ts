import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  EXPORT_FORMAT,
  SessionInUseError,
  SessionNotFoundError,
  SessionReader,
  SessionStore,
  SecretInConfigError,
  type SessionError,
} from '../../orchestrator/sessions/index.ts';

function tempRoot(): { root: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'orrery-sessions-'));
  return { root, done: () => rmSync(root, { recursive: true, force: true }) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('list, show and delete: newest first, counts, sizes, live sessions refused', async () => {
  const { root, done } = tempRoot();
  try {
    const dir = join(root, 'sessions');
    const store = new SessionStore({ dir });
    assert.deepEqual(store.list(), [], 'a missing directory lists as empty');
    const first = store.record('first', { orreryVersion: 't' });
    first.recordTaskSubmitted({ taskId: 'a', name: 'f', kind: 'task' });
    first.recordTaskState('a', { state: 'FINISHED' });
    first.recordResult('a', new Uint8Array(100_000));
    await first.close();
    await sleep(5);
    const second = store.record('second', { orreryVersion: 't' });
    second.recordTaskSubmitted({ taskId: 'b', name: 'g', kind: 'task' });
    second.recordTaskSubmitted({ taskId: 'c', name: 'g', kind: 'task' });
    second.flush();

    const list = store.list();
    assert.deepEqual(
      list.map((s) => [s.name, s.status, s.totalTasks]),
      [
        ['second', 'running', 2],
        ['first', 'finished', 1],
      ],
    );
    assert.deepEqual(list[1]!.taskCounts, { FINISHED: 1 });
    assert.ok(list[1]!.sizeBytes >= 100_000 + statSync(join(dir, 'first.db')).size, 'size includes the results file');
    const shown = store.show('first');
    assert.equal(shown.name, 'first');
    assert.equal(shown.summary.total, 1);
    assert.equal(shown.filesDir, join(dir, 'first.files'));

    assert.throws(
      () => store.delete('second'),
      (e: unknown) => e instanceof SessionInUseError && e.pid === process.pid && /orrery stop/.test(e.message),
    );
    assert.ok(existsSync(join(dir, 'second.db')));
    await second.close();
    store.delete('second');
    store.delete('first');
    assert.deepEqual(readdirSync(dir), [], 'db, wal, shm and files dir are gone');
    assert.throws(() => store.delete('first'), SessionNotFoundError);
    assert.throws(
      () => store.show('nope'),
      (e: unknown) => e instanceof SessionNotFoundError && /sessions list/.test((e as Error).message),
    );
  } finally {
    done();
  }
});

test('export writes a .tar.gz that tar reads: manifest, a consistent db snapshot and the results files', async () => {
  const { root, done } = tempRoot();
  try {
    const store = new SessionStore({ dir: join(root, 'sessions') });
    const rec = store.record('exp', { orreryVersion: '0.1.0' });
    const big = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    for (let i = 0; i < 3; i++) rec.recordTaskSubmitted({ taskId: `t${i}`, name: 'f', kind: 'task' });
    rec.recordResult('t0', big, { contentType: 'Uint8Array' });
    rec.recordResult('t1', Buffer.from('{"x":1}'), { contentType: 'json' });
    await new Promise((r) => setTimeout(r, 200));
    rec.flush();
    // Exported while still recording: the snapshot must include what the WAL holds.
    const out = join(root, 'exp.tar.gz');
    const res = await store.export('exp', out);
    await rec.close();
    assert.equal(res.bytes, statSync(out).size);
    assert.equal(res.entries, 5);
    const tar = gunzipSync(readFileSync(out));
    assert.equal(tar.length % 512, 0);
    const listing = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(listing, ['exp/', 'exp/manifest.json', 'exp/exp.db', 'exp/exp.files/', 'exp/exp.files/t0']);
    const x = join(root, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xzf', out, '-C', x]);
    const manifest = JSON.parse(readFileSync(join(x, 'exp', 'manifest.json'), 'utf8'));
    assert.equal(manifest.format, EXPORT_FORMAT);
    assert.equal(manifest.name, 'exp');
    assert.deepEqual(readFileSync(join(x, 'exp', 'exp.files', 't0')), Buffer.from(big));
    const r = SessionReader.open(join(x, 'exp', 'exp.db'));
    assert.deepEqual(
      r.tasks().map((t) => t.taskId),
      ['t0', 't1', 't2'],
    );
    assert.equal(Buffer.from(r.result('t1')!.bytes).toString(), '{"x":1}');
    assert.deepEqual(Buffer.from(r.result('t0')!.bytes), Buffer.from(big), 'the extracted tree is a working session');
    r.close();
    assert.deepEqual(
      readdirSync(root).filter((f) => f.includes('partial')),
      [],
      'no partial archive left',
    );
  } finally {
    done();
  }
});

test('export of long names uses the ustar prefix field', async () => {
  const { root, done } = tempRoot();
  try {
    const store = new SessionStore({ dir: join(root, 'sessions') });
    const name = 'n'.repeat(64);
    const rec = store.record(name, { orreryVersion: 't' });
    const taskId = 'id-'.repeat(20);
    rec.recordTaskSubmitted({ taskId, name: 'f', kind: 'task' });
    rec.recordResult(taskId, new Uint8Array(70_000).fill(7));
    await rec.close();
    const out = join(root, 'long.tar.gz');
    await store.export(name, out);
    const listing = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n');
    assert.ok(listing.includes(`${name}/${name}.files/${taskId}`), listing.join('\n'));
  } finally {
    done();
  }
});

test('no secret value reaches any file of the session directory', async () => {
  const { root, done } = tempRoot();
  try {
    const dir = join(root, 'sessions');
    const store = new SessionStore({ dir });
    const secret = 'AKIA-super-secret-value-4711';
    const errors: SessionError[] = [];
    const rec = store.record('secrets', {
      orreryVersion: 't',
      onError: (e) => errors.push(e),
      config: {
        backends: [
          {
            name: 'aws',
            kind: 'sagemaker',
            region: 'eu-west-1',
            secretAccessKey: secret,
            credentials: { accessKeyId: secret, sessionToken: secret },
          },
          { name: 'ibm', kind: 'ibm-quantum', apiKeySecret: 'ibm-key-name', apikey: secret },
          { name: 'ssh', kind: 'ssh', hosts: ['u@h'], passphraseSecret: 'ssh-pass-name', password: secret },
        ],
      },
      placementRules: [{ match: { name: 'x' }, backend: 'aws', token: secret }],
    });
    rec.recordTaskSubmitted({
      taskId: 't',
      name: 'f',
      kind: 'task',
      options: { runtimeEnv: { env: { API_TOKEN: secret } } },
    });
    await rec.close();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof SecretInConfigError);
    assert.ok(!errors[0]!.message.includes(secret), 'the error names keys, not values');
    assert.deepEqual((errors[0] as SecretInConfigError).keyPaths, [
      'config.backends[0].secretAccessKey',
      'config.backends[0].credentials',
      'config.backends[1].apikey',
      'config.backends[2].password',
      'placementRules[0].token',
    ]);
    const r = store.open('secrets');
    const cfg = r.metadata().config as { backends: Record<string, unknown>[] };
    assert.equal(cfg.backends[1]!.apiKeySecret, 'ibm-key-name', 'secret names are kept');
    assert.equal(cfg.backends[2]!.passphraseSecret, 'ssh-pass-name');
    r.close();
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    assert.ok(files.length >= 1);
    for (const f of files) {
      const bytes = readFileSync(join(f.parentPath, f.name));
      assert.equal(bytes.indexOf(secret), -1, `${f.name} contains the secret`);
      assert.equal(bytes.indexOf(Buffer.from(secret, 'utf16le')), -1);
    }
  } finally {
    done();
  }
});
