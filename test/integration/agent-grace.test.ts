/**
 * The agent grace period you choose: `orrery start --agent-grace` (or the config's `agentGrace`)
 * is what `orrery status` reports, and what a SIGKILLed head's agents actually wait before ending.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, sleep, tempDir, until } from './helpers.ts';

const MAIN = 'orchestrator/cli/main.ts';

function orrery(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { env: { ...process.env, ORRERY_HOME: home }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** Pids of the agent processes started for ORRERY_HOME `home`. */
function agentsOf(home: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (cmd.includes('agent-main') && env.includes(`ORRERY_HOME=${home}`)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or another user's.
    }
  }
  return pids;
}

async function startHead(home: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--port', '0', ...args], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  await until(
    'the head to start',
    () => {
      if (child.exitCode !== null) throw new Error(`orrery start exited with ${child.exitCode}: ${err}`);
      return existsSync(join(home, 'head.json')) && /agents:/.test(out);
    },
    60_000,
  );
  return { child, out: () => out, err: () => err };
}

test('--agent-grace 4s: orrery start and orrery status say so; the SIGKILLed head’s agents end after about 4 s, not 30 min', async () => {
  const home = tempDir('grace-home');
  const head = await startHead(home, ['--agent-grace', '4s']);
  try {
    assert.match(head.out(), /agents: +keep running 4s without a head/);
    const status = await orrery(home, ['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Agent grace: 4s \(agents keep running, holding their resources/);
    const json = JSON.parse((await orrery(home, ['status', '--json'])).stdout) as { agentGraceS: number };
    assert.equal(json.agentGraceS, 4);
    const agents = await until('the local agent', () => agentsOf(home).length > 0 && agentsOf(home), 30_000);
    head.child.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(2000);
    assert.ok(
      agents.some((pid) => alive(pid)),
      'the agent outlives its head within the grace period',
    );
    await until('the agents to end once the grace period is over', () => agents.every((pid) => !alive(pid)), 30_000);
    const waited = (Date.now() - killedAt) / 1000;
    assert.ok(waited >= 3.5 && waited < 25, `agents ended ${waited.toFixed(1)} s after the kill`);
  } finally {
    head.child.kill('SIGKILL');
    for (const pid of agentsOf(home)) process.kill(pid, 'SIGKILL');
  }
});

test("the config's agentGrace is used; --agent-grace wins over it; a bad value is one clear error", async () => {
  const home = tempDir('grace-config');
  const config = join(home, 'orrery.json');
  writeFileSync(config, JSON.stringify({ agentGrace: '8h' }));
  const head = await startHead(home, ['--config', config]);
  try {
    assert.match((await orrery(home, ['status'])).stdout, /Agent grace: 8h/);
  } finally {
    head.child.kill('SIGTERM');
    await new Promise((r) => head.child.once('exit', r));
  }
  const overridden = await startHead(home, ['--config', config, '--agent-grace', '90m']);
  try {
    assert.match((await orrery(home, ['status'])).stdout, /Agent grace: 1h30m/);
  } finally {
    overridden.child.kill('SIGTERM');
    await new Promise((r) => overridden.child.once('exit', r));
  }
  const bad = await orrery(home, ['start', '--port', '0', '--agent-grace', '8 hours']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--agent-grace must be a duration such as 90s, 30m, 8h, 2d or 1h30m \(got "8 hours"\)/);
  writeFileSync(config, JSON.stringify({ agentGrace: 'forever' }));
  const badConfig = await orrery(home, ['start', '--port', '0', '--config', config]);
  assert.notEqual(badConfig.code, 0);
  assert.match(badConfig.stderr, /config file .*orrery\.json: agentGrace must be a duration/);
});
