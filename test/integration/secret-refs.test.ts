/**
 * Secrets by reference: `secret(name)` in a command's env (on a local node and on an ssh node,
 * through its agent) and as a task argument. The value comes from the real OS keychain (run
 * inside test/services/keyring.sh), reaches the program, and is nowhere else: not in the
 * session's files, not in any API reply, not in the CLI's output, not in an export, not in the
 * task's logs (masked). A missing secret fails the task once, with the command that stores it;
 * a resumed head submits a queued task with a secret reference again and reads it anew.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { promisify } from 'node:util';
import { Entry } from '@napi-rs/keyring';
import {
  init,
  shutdown,
  remote,
  command,
  get,
  put,
  secret,
  SecretNotFoundError,
  type CommandResult,
} from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { Head } from '../../orchestrator/head/head.ts';
import { LocalBackend } from '../../backends/local/local-backend.ts';
import { recordSession } from '../../orchestrator/head/session-recording.ts';
import { resubmitUnfinished } from '../../orchestrator/head/session-resume.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import { requireService, sshService } from '../services/env.ts';
import { tempDir, until } from './helpers.ts';
import { findIn, findInArchive, findInFiles } from './secret-scan.ts';

const CLI = new URL('../../orchestrator/cli/main.ts', import.meta.url).pathname;
const run = promisify(execFile);
const keyringUp = requireService('keyring');
const sshUp = requireService('ssh');

const NAME = `orrery-test-wandb-${randomBytes(4).toString('hex')}`;
const MISSING = `orrery-test-missing-${randomBytes(4).toString('hex')}`;
const VALUE = `wandb-secret-${randomBytes(16).toString('hex')}`;
const HASH = createHash('sha256').update(VALUE).digest('hex');
/**
 * The ssh backend's name is new each run: a service head's agents outlive it on the ssh host,
 * and a head bridges to whatever agent listens under `<backend>-<host>`, which could run the
 * code of another checkout.
 */
const SSH_BACKEND = `ssh-${randomBytes(4).toString('hex')}`;
const V = { VALUE };

before(() => {
  if (keyringUp) new Entry('orrery', NAME).setPassword(VALUE);
});
after(() => {
  if (keyringUp) new Entry('orrery', NAME).deletePassword();
});

/** A command that prints the SHA-256 of its WANDB_API_KEY; `plain` adds env values that are not secrets. */
const hashCommand = (backend: string, plain: Record<string, string> = {}) =>
  command({ name: `hash-${backend}`, backend }).remote({
    argv: ['sh', '-c', 'printf %s "$WANDB_API_KEY" | sha256sum'],
    env: { WANDB_API_KEY: secret(NAME), ...plain },
  });

test('secret() reaches a command on a local and an ssh node and a task argument, and nothing else', {
  skip: (!keyringUp || !sshUp) && 'the keyring or the test sshd is not running',
}, async () => {
  const home = tempDir('secret-refs');
  process.env.ORRERY_HOME = home;
  const service = await HeadService.start({
    port: 0,
    numCpus: 2,
    session: 'refs',
    log: () => {},
    backends: [
      {
        name: SSH_BACKEND,
        kind: 'ssh',
        hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
        identityFile: sshService.keyPath,
        knownHostsFile: sshService.knownHostsPath,
      },
    ],
  });
  const { url, token } = service.info;
  const api = async (path: string): Promise<string> => {
    const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer()).toString('latin1');
  };
  const cli = async (...args: string[]): Promise<string> =>
    (
      await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
        env: { ...process.env, ORRERY_HOME: home, ORRERY_ADDRESS: '', ORRERY_TOKEN: '' },
      })
    ).stdout;
  const hits: string[] = [];
  try {
    await init({ address: service.info.address, token, logToDriver: false });
    const fromArg = remote({ name: 'fromArg' }, async (key: string) => {
      const { createHash: hash } = await import('node:crypto');
      console.log(`the key is ${key}.`);
      return hash('sha256').update(key).digest('hex');
    });
    const [local, ssh] = (await get([
      hashCommand('local', { WANDB_MODE: 'offline' }),
      hashCommand(SSH_BACKEND),
    ])) as CommandResult[];
    assert.equal(local!.stdout.split(' ')[0], HASH, 'the local command saw the value');
    assert.equal(ssh!.stdout.split(' ')[0], HASH, 'the ssh command saw the value');
    const argRef = fromArg.remote(secret(NAME));
    assert.equal(await get(argRef), HASH, 'the task argument is the value');

    await assert.rejects(
      get(command({ name: 'missing' }).remote({ argv: ['true'], env: { X: secret(MISSING) } })),
      (e: unknown) => {
        assert.ok(e instanceof SecretNotFoundError, String(e));
        assert.equal(e.secretName, MISSING);
        assert.match(e.message, new RegExp(`orrery secrets set ${MISSING}`));
        return true;
      },
    );
    assert.throws(
      () => put({ token: secret(NAME) }),
      /secret\('orrery-test-wandb-[0-9a-f]+'\).*only be an argument of a task/,
    );

    const logs = JSON.parse(await api(`/api/logs/${argRef.id}`)) as { lines: string[] };
    assert.ok(
      logs.lines.some((l) => l.includes('the key is ***.')),
      `the value is masked in the task's output: ${JSON.stringify(logs.lines)}`,
    );

    const tasks = JSON.parse(await api('/api/tasks')) as {
      taskId: string;
      name: string;
      attempt: number;
      state: string;
    }[];
    const missing = tasks.find((t) => t.name === 'missing')!;
    assert.equal(missing.state, 'FAILED');
    assert.equal(missing.attempt, 0, 'a missing secret is not retried');
    await until(
      'the session has every task ended',
      () => {
        const r = new SessionStore().open('refs');
        try {
          const t = r.tasks();
          return t.length === 4 && t.every((x) => x.state === 'FINISHED' || x.state === 'FAILED');
        } finally {
          r.close();
        }
      },
      30_000,
    );

    const replies: Record<string, string> = { '/api/tasks': JSON.stringify(tasks) };
    for (const p of [
      '/api/nodes',
      '/api/sessions',
      '/api/sessions/refs',
      '/api/sessions/refs/tasks',
      '/api/sessions/compare?a=refs&b=refs',
    ])
      replies[p] = await api(p);
    for (const t of tasks) {
      for (const p of [`/api/tasks/${t.taskId}`, `/api/sessions/refs/tasks/${t.taskId}`, `/api/logs/${t.taskId}`])
        replies[p] = await api(p);
    }
    const detail = replies[`/api/sessions/refs/tasks/${tasks.find((t) => t.name === 'hash-local')!.taskId}`]!;
    assert.ok(detail.includes(`secret('${NAME}')`), `the session shows the reference: ${detail}`);
    for (const [path, body] of Object.entries(replies)) hits.push(...findIn(path, body, V));
    for (const args of [
      ['list', 'tasks', '--json'],
      ['logs', argRef.id],
      ['sessions', 'show', 'refs', '--json'],
      ['sessions', 'compare', 'refs', 'refs', '--json'],
    ]) {
      hits.push(...findIn(`orrery ${args.join(' ')}`, await cli(...args), V));
    }
    const exported = join(tempDir('secret-refs-export'), 'refs.tar.gz');
    await cli('sessions', 'export', 'refs', exported);
    hits.push(...findInArchive(exported, V).hits);
    const download = join(tempDir('secret-refs-download'), 'api.tar.gz');
    writeFileSync(download, Buffer.from(await api('/api/sessions/refs/export'), 'latin1'));
    hits.push(...findInArchive(download, V).hits);
    hits.push(...findInFiles(home, V));
  } finally {
    await shutdown();
    await service.stop();
  }
  hits.push(...findInFiles(home, V));
  assert.deepEqual(hits, []);
});

test('a resumed head submits a queued task with a secret reference again and reads the secret anew', {
  skip: !keyringUp && 'the keyring is not running',
}, async () => {
  const dir = tempDir('secret-refs-resume');
  const first = new Head({ log: () => {}, infeasibleGraceMs: 600_000 });
  const recorder = new SessionStore({ dir }).record('resume-refs', { orreryVersion: 't' });
  const recording = recordSession(first, recorder);
  await init({ cluster: { head: first }, logToDriver: false });
  // The first head has no node: the task is still queued when it goes away. Only a secret
  // reference in its env, no plain value, so the session can rebuild it.
  const queued = hashCommand('local');
  await until('the submission is recorded', () => {
    recorder.flush();
    const r = new SessionStore({ dir }).open('resume-refs');
    try {
      return r.tasks().length === 1;
    } finally {
      r.close();
    }
  });
  recording.stop();
  await recorder.close({ status: 'crashed' });
  await shutdown();
  await first.shutdown();

  const second = new Head({ log: () => {} });
  const reader = new SessionStore({ dir }).open('resume-refs');
  const again = new SessionStore({ dir }).record('resume-refs', { orreryVersion: 't', resume: true });
  try {
    await second.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
    assert.deepEqual(
      resubmitUnfinished(second, reader, again, () => {}),
      { resubmitted: 1, lost: 0 },
    );
    const r = await until(
      'the resubmitted task finished',
      () => {
        const res = second.queries.result(queued.id);
        return res?.ok && res;
      },
      30_000,
    );
    const out = deserialize(Buffer.from(r.payload.data)) as CommandResult;
    assert.equal(out.stdout.split(' ')[0], HASH);
  } finally {
    reader.close();
    await again.close();
    await second.shutdown();
  }
});
