/**
 * Surviving a dead head: a service head's agents keep running when it is SIGKILLed; the next
 * head resuming the session reattaches, collects what finished meanwhile and what finishes
 * later, and nothing runs twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { chmodSync } from 'node:fs';
import { tempDir } from './helpers.ts';
import { requireService } from '../services/env.ts';

const FIXTURE = new URL('./fixtures/durable-head.ts', import.meta.url).pathname;

for (const where of ['local', 'ssh', 'slurm'] as const) {
  test(`${where}: SIGKILL the head mid-run; the resumed head collects every result exactly once`, async (t) => {
    if (where !== 'local' && !requireService(where, t)) return;
    await scenario(where);
  });
}

async function scenario(where: 'local' | 'ssh' | 'slurm'): Promise<void> {
  const home = tempDir('reattach-home');
  const markers = tempDir('reattach-markers');
  chmodSync(markers, 0o777); // the ssh test user writes there too
  const first = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'first', home, 'exp', where, markers], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    first.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
    first.once('exit', (code) => reject(new Error(`first head exited early (${code})`)));
  });
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  // The agent outlives its head: tasks 2 and 3 finish while no head is running.
  await new Promise((r) => setTimeout(r, 2500));
  const agents = execFileSync('pgrep', ['-f', 'agent-main'], { encoding: 'utf8' }).trim();
  assert.ok(agents.length > 0, 'the durable agent is still running after its head was killed');
  const out = execFileSync(process.execPath, ['--import', 'tsx', FIXTURE, 'resume', home, 'exp', where], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const rows = JSON.parse(out.trim().split('\n').pop()!) as { taskId: string; state: string; result: string | null }[];
  assert.equal(rows.length, 6);
  for (const r of rows) {
    assert.equal(r.state, 'FINISHED', JSON.stringify(rows));
    assert.ok(r.result, `task ${r.taskId} has a result in the session`);
  }
  const values = rows.map((r) => deserialize(Buffer.from(r.result!, 'base64')) as number).sort((a, b) => a - b);
  assert.deepEqual(values, [0, 1, 4, 9, 16, 25]);
  const ran = readdirSync(markers).sort();
  assert.deepEqual(ran, ['ran-0', 'ran-1', 'ran-2', 'ran-3', 'ran-4', 'ran-5']);
  for (const f of ran) assert.equal(readFileSync(join(markers, f), 'utf8'), 'x', `${f} ran exactly once`);
}
