/**
 * The CLI path of surviving a dead head: `orrery start --session`, a client driver submits work,
 * the head is SIGKILLed, `orrery start --resume` reattaches; every task's result lands in the
 * session exactly once (queued tasks are submitted again, those taking refs with the same
 * objects; running ones are collected).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import { tempDir, until } from './helpers.ts';

const CLI = new URL('../../orchestrator/cli/main.ts', import.meta.url).pathname;
const DRIVER = new URL('./fixtures/driver-slow.ts', import.meta.url).pathname;

test('orrery start --resume after SIGKILL: every result arrives once and the session is complete', async () => {
  const home = tempDir('service-resume');
  const markers = tempDir('service-resume-markers');
  chmodSync(markers, 0o777);
  const env: NodeJS.ProcessEnv = { ...process.env, ORRERY_HOME: home };
  delete env.ORRERY_ADDRESS;
  delete env.ORRERY_TOKEN;
  const headFile = join(home, 'head.json');
  const start = (...extra: string[]): ChildProcess =>
    spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '--port', '0', ...extra], { env, stdio: 'ignore' });
  const headPid = async () =>
    await until(
      'head.json',
      () => existsSync(headFile) && (JSON.parse(readFileSync(headFile, 'utf8')) as { pid: number }).pid,
      30_000,
    );

  const first = start('--session', 'res');
  const pid = await headPid();
  const driver = spawn(process.execPath, ['--import', 'tsx', DRIVER, markers, '4'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    driver.stdout!.on('data', (d: Buffer) => d.toString().includes('SUBMITTED') && resolve());
    let err = '';
    driver.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    driver.once('exit', (code) => reject(new Error(`driver exited early (${code}): ${err.slice(-800)}`)));
  });
  await new Promise((r) => setTimeout(r, 300));
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => first.once('exit', r));
  driver.kill('SIGKILL');

  const second = start('--resume', 'res');
  try {
    await until('a new head', async () => (await headPid()) !== pid, 30_000);
    const store = new SessionStore({ dir: join(home, 'sessions') });
    const rows = await until(
      'every task finished in the session',
      () => {
        const r = store.open('res');
        try {
          const tasks = r.tasks({ name: 'slow' });
          return (
            tasks.length === 4 &&
            tasks.every((t) => t.state === 'FINISHED') &&
            tasks.map((t) => deserialize(Buffer.from(r.result(t.taskId)!.bytes)) as number)
          );
        } finally {
          r.close();
        }
      },
      60_000,
    );
    assert.deepEqual(
      [...rows].sort((a, b) => a - b),
      [0, 10, 20, 30],
    );
    // The task with ref arguments, queued at the kill, is submitted again with the same objects.
    const totals = await until(
      'the task with ref arguments finished in the session',
      () => {
        const r = store.open('res');
        try {
          const [t] = r.tasks({ name: 'total' });
          return t?.state === 'FINISHED' && (deserialize(Buffer.from(r.result(t.taskId)!.bytes)) as number);
        } finally {
          r.close();
        }
      },
      60_000,
    );
    assert.equal(totals, 60);
    const ran = readdirSync(markers).sort();
    assert.deepEqual(ran, ['ran-0', 'ran-1', 'ran-2', 'ran-3', 'ran-total']);
    for (const f of ran) assert.equal(readFileSync(join(markers, f), 'utf8'), 'x', `${f} ran exactly once`);
  } finally {
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  }
});
