/**
 * Connection exhaustion (issue 13, finding 9): a head service started under `ulimit -n 1024`
 * while another local user (orrery-intruder) holds 2,000 idle TCP connections to its port,
 * reopening each one the head closes. A driver that was running keeps finishing tasks, and a
 * new authenticated API request and a new events socket still work; the head stays under its
 * file descriptor limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { intruderUser, requireIntruder } from '../services/env.ts';
import { tempDir, until } from './helpers.ts';

const FD_LIMIT = 1024;
const ATTACK_CONNECTIONS = 2000;

/**
 * The other user's side: opens `total` connections to `port`, reopens each one that closes,
 * prints `STAT <open> <made>` twice a second, and exits when its stdin closes.
 */
const ATTACKER = `
const net = require('node:net');
const port = Number(process.argv[1]);
const total = Number(process.argv[2]);
let open = 0, made = 0;
function one() {
  let connected = false;
  const s = net.connect(port, '127.0.0.1');
  s.on('connect', () => { connected = true; open++; made++; });
  s.on('error', () => {});
  s.on('close', () => { if (connected) open--; setTimeout(one, 250); });
}
for (let i = 0; i < total; i++) setTimeout(one, Math.floor(i / 100) * 20);
setInterval(() => process.stdout.write('STAT ' + open + ' ' + made + '\\n'), 500);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 240000);
`;

interface Proc {
  child: ChildProcess;
  out(): string;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}

function rounds(p: Proc): number {
  const all = [...p.out().matchAll(/^ROUND (\d+)$/gm)];
  return all.length === 0 ? 0 : Number(all[all.length - 1]![1]);
}

function attackStats(p: Proc): { open: number; made: number } {
  const all = [...p.out().matchAll(/^STAT (\d+) (\d+)$/gm)];
  const last = all[all.length - 1];
  return last ? { open: Number(last[1]), made: Number(last[2]) } : { open: 0, made: 0 };
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Opens the dashboard's events socket with the token subprotocol; resolves with the first message's type. */
function eventsSnapshot(address: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${address}/api/events`, ['orrery', `orrery.token.${token}`], {
      handshakeTimeout: 30_000,
    });
    ws.once('message', (d: Buffer) => {
      resolve((JSON.parse(d.toString('utf8')) as { type: string }).type);
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`events socket refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

test('2,000 idle connections from another user stop neither a running driver nor the dashboard of a head under ulimit -n 1024', {
  timeout: 300_000,
}, async (t) => {
  if (!requireIntruder(t)) return;
  const home = tempDir('flood');
  const head = start(
    'bash',
    [
      '-c',
      `ulimit -n ${FD_LIMIT} && exec "$0" --import tsx orchestrator/cli/main.ts start --port 0 --session flood`,
      process.execPath,
    ],
    { ...process.env, ORRERY_HOME: home },
  );
  let driver: Proc | undefined;
  let attacker: Proc | undefined;
  try {
    const file = join(home, 'head.json');
    await until(
      'the head to write head.json',
      () => {
        if (head.child.exitCode !== null) throw new Error(`orrery start exited: ${head.out()}`);
        return existsSync(file) && /dashboard:/.test(head.out());
      },
      60_000,
    );
    const info = JSON.parse(readFileSync(file, 'utf8')) as { address: string; url: string; token: string; pid: number };
    const port = Number(new URL(info.url).port);
    driver = start(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/driver-steady.ts'], {
      ...process.env,
      ORRERY_ADDRESS: info.address,
      ORRERY_TOKEN: info.token,
    });
    await until('the driver to run rounds', () => rounds(driver!) >= 3, 60_000);

    attacker = start('runuser', [
      '-u',
      intruderUser,
      '--',
      process.execPath,
      '-e',
      ATTACKER,
      String(port),
      String(ATTACK_CONNECTIONS),
    ]);
    await until(
      `${intruderUser} to have opened ${ATTACK_CONNECTIONS} connections`,
      () => attackStats(attacker!).made >= ATTACK_CONNECTIONS,
      120_000,
    );
    const fdsUnderAttack = openFds(info.pid);
    t.diagnostic(
      `under attack: head holds ${fdsUnderAttack} fds (limit ${FD_LIMIT}); attacker ${JSON.stringify(attackStats(attacker))}`,
    );

    const before = rounds(driver);
    await until(
      'the running driver to finish more rounds under attack',
      () => {
        if (driver!.child.exitCode !== null) throw new Error(`the driver exited: ${driver!.out()}`);
        return rounds(driver!) >= before + 5;
      },
      60_000,
    );

    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const res = await fetch(`${info.url}/api/status`, {
        headers: { Authorization: `Bearer ${info.token}` },
        signal: AbortSignal.timeout(30_000),
      }).catch((err: Error) => {
        throw new Error(
          `API request ${i + 1} under attack failed: ${err.message} (${(err.cause as Error | undefined)?.message ?? 'no cause'})`,
        );
      });
      assert.equal(res.status, 200);
      assert.ok(((await res.json()) as { drivers: number }).drivers >= 1);
      t.diagnostic(`API request ${i + 1} under attack: ${Date.now() - started} ms`);
    }
    assert.equal(await eventsSnapshot(info.address, info.token), 'snapshot');
    assert.ok(openFds(info.pid) < FD_LIMIT, `the head holds ${openFds(info.pid)} fds`);
    assert.ok(attackStats(attacker).made >= ATTACK_CONNECTIONS);
  } finally {
    attacker?.child.stdin?.end();
    driver?.child.stdin?.end();
    if (driver)
      await until(
        'the driver to end',
        () => driver!.child.exitCode !== null || /DONE/.test(driver!.out()),
        60_000,
      ).catch(() => driver!.child.kill('SIGKILL'));
    head.child.kill('SIGTERM');
    await until('the head to stop', () => head.child.exitCode !== null, 60_000).catch(() => head.child.kill('SIGKILL'));
  }
});
