/**
 * `orrery start --on <ssh host>`: the head on another machine, reached through an SSH tunnel.
 * The host is the real loopback sshd's orrery-bare account, whose `node` is v16, so the head
 * runs on a Node Orrery provisions there (from a local mirror: no network). This process is
 * "the laptop" (its own ORRERY_HOME); `orrery start --on` runs as a child process holding the
 * tunnel. A client driver runs tasks through the tunnel, `orrery status` works, the dashboard
 * loads through it in Chromium, the tunnel process is SIGKILLed and started again while the head
 * keeps running (a detached actor keeps counting, a new driver sees the earlier tasks),
 * `orrery sessions pull` gives a readable session here, and `orrery stop` stops the head there.
 * Unreachable hosts, refused keys and a second head are one clear message each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, getActor, init, remote, shutdown } from 'orrery-compute';
import { closedPort, tempDir, until } from './helpers.ts';
import { type NodeMirror, startNodeMirror } from './node-mirror.ts';
import { requireService, sshService } from '../services/env.ts';
import { CHROMIUM, openLiveDashboard } from '../e2e/browser.ts';

const sshUp = requireService('ssh');
const user = sshService.bareUser;
const hostSpec = `${user}@${sshService.host}:${sshService.port}`;
const remoteHome = (): string => execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5]!;
const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'orchestrator', 'cli', 'main.ts');

/**
 * Runs the CLI to completion as the laptop. Asynchronously: this process is the tunnel's parent,
 * and must go on reaping it (a zombie tunnel would look alive to `orrery stop`).
 */
async function cli(home: string, args: string[], timeoutMs = 180_000) {
  const r = await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ORRERY_HOME: home },
    timeout: timeoutMs,
  }).then(
    (ok) => ({ ...ok, code: 0 }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: err.code ?? 1,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
  return { status: r.code, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** True while `pid` runs (a zombie does not: the detached head's adopter here may never reap it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The pid of the head running on the host, from its head.json there (this test runs as root). */
function remoteHeadPid(): number | undefined {
  const file = join(remoteHome(), '.orrery', 'head.json');
  if (!existsSync(file)) return undefined;
  const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
  return alive(pid) ? pid : undefined;
}

/** `orrery start --on` as a child process; resolves once it printed its tunnel line. */
async function startTunnel(home: string, args: string[]): Promise<{ proc: ChildProcess; out: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', ...args], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await until('the tunnel is up', () => /^ {2}stop: /m.test(out) || proc.exitCode !== null, 240_000);
  assert.match(out, /tunnel http:\/\/127\.0\.0\.1:\d+/, out);
  return { proc, out: () => out };
}

describe('orrery start --on: the head on an SSH host', { skip: !sshUp && 'the test sshd is not running' }, () => {
  let mirror: NodeMirror;
  let home: string;
  let config: string;
  let tunnel: { proc: ChildProcess; out: () => string } | undefined;
  let headPid: number;
  const session = `on-${process.pid}`;
  const keys = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };

  before(async () => {
    mirror = await startNodeMirror();
    home = tempDir('laptop');
    // A head left by an earlier run would be reattached to, not started.
    const old = remoteHeadPid();
    if (old) process.kill(old, 'SIGKILL');
    // A bare account: no Node runtime and no head there yet.
    execFileSync('rm', ['-rf', '--', join(remoteHome(), '.orrery')]);
    // The head's own ssh backend logs in from the host to another account (orrery-test) with a key kept there.
    const sshDir = join(remoteHome(), '.ssh');
    const labKey = join(sshDir, 'orrery_lab');
    const labKnownHosts = join(sshDir, 'orrery_lab_known_hosts');
    execFileSync('install', ['-m', '600', '-o', user, '-g', user, sshService.keyPath, labKey]);
    execFileSync('install', ['-m', '600', '-o', user, '-g', user, sshService.knownHostsPath, labKnownHosts]);
    const lab = {
      name: 'lab',
      kind: 'ssh',
      hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
      identityFile: labKey,
      knownHostsFile: labKnownHosts,
    };
    config = join(tempDir('project'), 'orrery.json');
    writeFileSync(
      config,
      JSON.stringify({ head: { host: hostSpec, ...keys, nodeDist: { url: `${mirror.url}/dist` } }, backends: [lab] }),
    );
    // The dashboard travels with the head as built files.
    if (!existsSync(join(import.meta.dirname, '..', '..', 'renderer', 'dist', 'index.html')))
      execFileSync(process.execPath, ['--import', 'tsx', 'renderer/build.ts'], {
        cwd: join(import.meta.dirname, '..', '..'),
      });
  });

  after(async () => {
    await shutdown().catch(() => undefined);
    tunnel?.proc.kill('SIGKILL');
    const pid = remoteHeadPid();
    if (pid) process.kill(pid, 'SIGKILL');
    mirror?.close();
  });

  test('starts the head there (Node provisioned) and a client driver runs tasks through the tunnel', async () => {
    const port = await closedPort();
    tunnel = await startTunnel(home, [
      '--on',
      hostSpec,
      '--config',
      config,
      '--session',
      session,
      '--port',
      String(port),
    ]);
    const out = tunnel.out();
    assert.match(out, /orrery head started on orrery-bare@127\.0\.0\.1:2222/);
    assert.match(out, /provisioned Node v[\d.]+ on orrery-bare@127\.0\.0\.1:2222/);
    assert.match(out, /uploading the head \(\d+ files\)/);
    headPid = remoteHeadPid()!;
    assert.ok(headPid, 'a head process runs on the host');
    const there = join(remoteHome(), '.orrery');
    const heads = join(there, 'heads');
    const bundle = join(heads, readdirSync(heads).find((d) => !d.startsWith('.'))!);
    for (const [path, mode] of [
      [heads, 0o700],
      [bundle, 0o700],
      [join(bundle, 'orchestrator', 'agent', 'orrery.mjs'), 0o600],
      [join(there, 'head.json'), 0o600],
      [join(there, 'head-config.json'), 0o600],
      [join(there, 'remote-head.log'), 0o600],
    ] as const)
      assert.equal(statSync(path).mode & 0o777, mode, path);
    const local = JSON.parse(readFileSync(join(home, 'head.json'), 'utf8'));
    assert.equal(local.url, `http://127.0.0.1:${port}`);
    assert.equal(local.remote.pid, headPid);
    process.env.ORRERY_HOME = home;
    await init({ address: 'auto' });
    const square = remote({ name: 'tunnelSquare' }, (x: number) => x * x);
    assert.deepEqual(await get([1, 2, 3, 4].map((i) => square.remote(i))), [1, 4, 9, 16]);
    // The head there ships agents to its own ssh hosts (the agent bundle travels prebuilt in the head's).
    const whoRuns = remote({ name: 'whoRuns', backend: 'lab' }, async () => {
      const { getRuntimeContext } = await import('orrery-compute');
      const { userInfo } = await import('node:os');
      return `${getRuntimeContext().backend} ${userInfo().username}`;
    });
    assert.equal(await get(whoRuns.remote()), `lab ${sshService.user}`);
    class Ticker {
      n = 0;
      constructor() {
        setInterval(() => this.n++, 100);
      }
      count() {
        return this.n;
      }
    }
    const ticker = remote(Ticker).options({ name: 'ticker', namespace: 'on-test', lifetime: 'detached' }).remote();
    assert.equal(typeof (await get(ticker.count.remote())), 'number');
  });

  test('orrery status works through the tunnel; the token is on no command line there', async () => {
    const r = await cli(home, ['status']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /local/);
    const twice = await cli(home, ['start', '--on', hostSpec, '--config', config], 60_000);
    assert.equal(twice.status, 1);
    assert.match(
      twice.stderr,
      /^orrery: a tunnel to the head on orrery-bare@127\.0\.0\.1:2222 is already open here \(process \d+/,
    );
    const token = JSON.parse(readFileSync(join(home, 'head.json'), 'utf8')).token as string;
    const argv = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    assert.ok(!argv.includes(token), 'the token appears in no process argv');
  });

  test('the dashboard loads through the tunnel and shows the tasks', {
    skip: !existsSync(CHROMIUM) && 'no Chromium',
  }, async () => {
    const link = await cli(home, ['dashboard', '--url']);
    assert.equal(link.status, 0, link.stderr);
    const url = link.stdout
      .trim()
      .split('\n')
      .find((l) => l.includes('/login?code='))!
      .match(/http\S+/)![0];
    const ui = await openLiveDashboard(url);
    try {
      await ui.page.getByRole('tab', { name: 'Tables' }).click();
      await ui.page.getByLabel('Search').fill('tunnelSquare');
      await ui.page
        .getByTestId('table-count')
        .filter({ hasText: /^4 of / })
        .waitFor({ timeout: 30_000 });
    } finally {
      await ui.browser.close();
    }
  });

  test('the tunnel process killed and started again: the head kept running, a new driver sees earlier results', async () => {
    const before = await get((await getActor<{ count(): number }>('ticker', { namespace: 'on-test' })).count.remote());
    await shutdown();
    tunnel!.proc.kill('SIGKILL');
    await until('the tunnel process is gone', () => tunnel!.proc.exitCode !== null || tunnel!.proc.signalCode !== null);
    assert.equal(remoteHeadPid(), headPid, 'the head still runs on the host');
    const again = await cli(home, ['start', '--on', hostSpec, '--config', config, '--session', 'another'], 60_000);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /a head already runs on orrery-bare@127\.0\.0\.1:2222 \(pid \d+, session on-\d+\)/);
    tunnel = await startTunnel(home, ['--on', hostSpec, '--config', config]);
    assert.match(tunnel.out(), /orrery head found running on/);
    assert.doesNotMatch(tunnel.out(), /uploading|provisioned Node/);
    assert.equal(remoteHeadPid(), headPid, 'no second head');
    await init({ address: 'auto' });
    const after = await get((await getActor<{ count(): number }>('ticker', { namespace: 'on-test' })).count.remote());
    assert.ok(after > before, `the detached actor kept running (${before} -> ${after})`);
    const tasks = await cli(home, ['list', 'tasks', '--filter', 'name=tunnelSquare', '--json']);
    assert.equal(tasks.status, 0, tasks.stderr);
    assert.equal(JSON.parse(tasks.stdout).filter((t: { state: string }) => t.state === 'FINISHED').length, 4);
    const more = remote({ name: 'afterReopen' }, () => 'recorded');
    assert.equal(await get(more.remote()), 'recorded');
    await shutdown();
  });

  test('the SSH connections of the tunnel drop: it reconnects, and the head is reached again', async () => {
    const pid = tunnel!.proc.pid!;
    const sockets = execFileSync('ss', ['-tnpH'], { encoding: 'utf8' }).split('\n');
    // This tunnel's connections to the sshd, and the sshd processes serving them (not other tests' connections).
    const ports = sockets
      .filter((l) => l.includes(`pid=${pid},`) && / 127\.0\.0\.1:2222\s/.test(l))
      .map((l) => /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:2222/.exec(l)?.[1])
      .filter(Boolean);
    assert.ok(ports.length > 0, 'the tunnel has SSH connections');
    const served = sockets.filter((l) =>
      ports.some((p) => new RegExp(`127\\.0\\.0\\.1:2222\\s+127\\.0\\.0\\.1:${p}\\s`).test(l)),
    );
    const sshd = [...new Set(served.flatMap((l) => [...l.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]))))];
    assert.ok(sshd.length > 0, 'the sshd processes serving them');
    for (const p of sshd) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // The session's child died with its privileged parent.
      }
    }
    await until('the tunnel reconnected', () => /reconnected to orrery-bare@/.test(tunnel!.out()), 60_000);
    const r = await cli(home, ['status']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(remoteHeadPid(), headPid);
  });

  test('orrery sessions pull copies the session here, readable by orrery sessions show', async () => {
    const r = await cli(home, ['sessions', 'pull', session]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`pulled session ${session} from orrery-bare@127\\.0\\.0\\.1:2222`));
    const listed = await cli(home, ['sessions', 'list']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^sessions on orrery-bare@127\.0\.0\.1:2222 /);
    assert.match(listed.stdout, new RegExp(`\\b${session}\\b`));
    const show = await cli(home, ['sessions', 'show', session, '--json', '--local']);
    assert.equal(show.status, 0, show.stderr);
    const text = show.stdout;
    assert.match(text, /tunnelSquare/);
    assert.match(text, /afterReopen/);
    assert.equal(JSON.parse(text).file, join(home, 'sessions', `${session}.db`), 'read from this machine');
    const twice = await cli(home, ['sessions', 'pull', session]);
    assert.equal(twice.status, 1);
    assert.match(twice.stderr, /already exists here/);
  });

  test('orrery stop stops the head on the host, and its tunnel ends', async () => {
    const r = await cli(home, ['stop']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`stopped the head \\(pid ${headPid}\\) on orrery-bare@127\\.0\\.0\\.1:2222`));
    await until('the head is gone', () => !alive(headPid));
    await until('the tunnel ended', () => tunnel!.proc.exitCode !== null);
    assert.equal(existsSync(join(home, 'head.json')), false);
  });

  test('an unreachable host and a refused key are one clear message each', async () => {
    const port = await closedPort();
    const down = await cli(home, ['start', '--on', `${user}@127.0.0.1:${port}`, '--config', config], 60_000);
    assert.equal(down.status, 1);
    assert.match(
      down.stderr,
      /^orrery: cannot log in to the head host orrery-bare@127\.0\.0\.1:\d+: cannot reach 127\.0\.0\.1:\d+/,
    );
    const key = join(tempDir('key'), 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const other = join(tempDir('project'), 'orrery.json');
    writeFileSync(
      other,
      JSON.stringify({ head: { host: hostSpec, identityFile: key, knownHostsFile: keys.knownHostsFile } }),
    );
    const refused = await cli(home, ['start', '--on', hostSpec, '--config', other], 60_000);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^orrery: cannot log in to the head host .*refused every credential offered/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  });
});
