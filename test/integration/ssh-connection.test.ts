/**
 * The shared SSH transport against the real test sshd (test/services): the channel limit under
 * the server's MaxSessions, ProxyJump through a jump host, ssh-agent logins, keepalive ending a
 * connection to a frozen server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendError } from 'orrery-compute';
import { SshConnection, type SshConnectOptions } from '../../backends/transport/ssh/connection.ts';
import { resolveTarget } from '../../backends/transport/ssh/ssh-config.ts';
import { createSshBackend } from '../../backends/ssh/index.ts';
import { closedPort, tempDir, until } from './helpers.ts';
import { requireService, sshService } from '../services/env.ts';

const sshUp = requireService('ssh');
const sshd = { ...sshService, key: sshService.keyPath, knownHosts: sshService.knownHostsPath };
const HOST = `${sshd.user}@127.0.0.1:${sshd.port}`;

const options = (host: string, extra: Partial<SshConnectOptions> = {}, configText = ''): SshConnectOptions => ({
  backend: 'test',
  target: resolveTarget(host, { configText }),
  identityFile: sshd.key,
  knownHostsFile: sshd.knownHosts,
  agentSocket: '',
  ...extra,
});

describe('ssh transport', { skip: !sshUp && 'the test sshd is not running (see the message above)' }, () => {
  before(async () => {
    const conn = await SshConnection.open(options(HOST)).catch((e: Error) => {
      throw new Error(`the test sshd is not usable (${e.message}); run test/services/start.sh as root`);
    });
    conn.close();
  });

  test('opens beyond MaxSessions wait for a free channel instead of failing', async () => {
    const conn = await SshConnection.open(options(HOST));
    try {
      let peak = 0;
      let queuedSeen = 0;
      const runs = Array.from({ length: 15 }, (_, i) => conn.run(`sleep 0.3; echo ${i}`).then((r) => r.stdout.trim()));
      const probe = setInterval(() => {
        peak = Math.max(peak, conn.channels().active);
        queuedSeen = Math.max(queuedSeen, conn.channels().queued);
      }, 5);
      const outs = await Promise.all(runs).finally(() => clearInterval(probe));
      assert.deepEqual(
        outs,
        Array.from({ length: 15 }, (_, i) => String(i)),
      );
      assert.ok(peak <= 10 && queuedSeen > 0, `peak ${peak}, queued ${queuedSeen}`);
    } finally {
      conn.close();
    }
  });

  test('without the limit the server refuses the 11th channel (why the limiter exists)', async () => {
    const conn = await SshConnection.open(options(HOST, { maxSessions: 20 }));
    try {
      const results = await Promise.allSettled(Array.from({ length: 15 }, () => conn.run('sleep 3')));
      const refused = results
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason as Error);
      assert.ok(refused.length > 0, 'sshd MaxSessions 10 should refuse some of 15 channels');
      assert.ok(
        refused.every((e) => e instanceof BackendError && /MaxSessions/.test(e.message)),
        refused.map((e) => e.message).join('\n'),
      );
    } finally {
      conn.close();
    }
  });

  test('ProxyJump: the target is reached through the jump host, and the backend check goes through it', async () => {
    const dir = tempDir('ssh-jump');
    const config = `Host gpu-behind-bastion\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.gpuUser}\n  ProxyJump ${HOST}\n`;
    const conn = await SshConnection.open(options('gpu-behind-bastion', {}, config));
    try {
      assert.equal(conn.via.length, 1);
      assert.equal(conn.via[0]!.target.user, sshd.user);
      assert.equal((await conn.run('whoami')).stdout.trim(), sshd.gpuUser);
    } finally {
      conn.close();
    }
    await conn.closed;
    await until('the jump connection to close with the target', () => conn.via[0]!.isClosed);
    const file = join(dir, 'ssh_config');
    writeFileSync(file, config);
    const backend = createSshBackend({
      name: 'jumped',
      kind: 'ssh',
      hosts: ['gpu-behind-bastion'],
      sshConfigFile: file,
      identityFile: sshd.key,
      knownHostsFile: sshd.knownHosts,
    });
    const lines = await backend.check!();
    assert.ok(
      lines[0]!.includes(`${sshd.gpuUser}@127.0.0.1:${sshd.port}: connected via 127.0.0.1:${sshd.port}`),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes('GPUs: 2 x')),
      lines.join('\n'),
    );
  });

  test('ProxyJump failures name the hop that failed', async () => {
    const port = await closedPort();
    await assert.rejects(
      SshConnection.open(
        options(
          't',
          {},
          `Host t\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  ProxyJump ${sshd.user}@127.0.0.1:${port}\n  User ${sshd.user}\n`,
        ),
      ),
      (e: Error) => {
        assert.ok(e instanceof BackendError && e.message.includes(`cannot reach 127.0.0.1:${port}`), e.message);
        return true;
      },
    );
    await assert.rejects(
      SshConnection.open(
        options('t', {}, `Host t\n  HostName 127.0.0.1\n  Port ${port}\n  ProxyJump ${HOST}\n  User ${sshd.user}\n`),
      ),
      (e: Error) => {
        assert.ok(
          e instanceof BackendError &&
            e.message.includes(`jump host 127.0.0.1:${sshd.port} cannot reach 127.0.0.1:${port}`),
          e.message,
        );
        return true;
      },
    );
  });

  describe('ssh-agent', () => {
    let agent: ChildProcess;
    const sock = join(tempDir('ssh-agent'), 'agent.sock');
    before(async () => {
      agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
      await until('ssh-agent to listen', () => {
        try {
          execFileSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
          return true;
        } catch (err) {
          return (err as { status?: number }).status === 1; // 1: no identities yet, but the agent answers
        }
      });
      execFileSync('ssh-add', [sshd.key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    });
    after(() => {
      agent?.kill();
    });

    test('a login with the agent alone (no identityFile)', async () => {
      const conn = await SshConnection.open(options(HOST, { identityFile: undefined, agentSocket: sock }));
      try {
        assert.equal((await conn.run('whoami')).stdout.trim(), sshd.user);
      } finally {
        conn.close();
      }
    });
  });

  test('keepalive ends a connection whose server stopped answering', async () => {
    const conn = await SshConnection.open(options(HOST, { keepaliveIntervalMs: 200 }));
    // The shell's parent is the sshd process serving this connection; freezing it silences the server.
    const session = Number((await conn.run('echo $PPID')).stdout.trim());
    assert.ok(session > 1);
    process.kill(session, 'SIGSTOP');
    try {
      const why = await Promise.race([
        conn.closed,
        new Promise((r) => setTimeout(() => r('still open after 10 s'), 10_000)),
      ]);
      assert.match(String(why), /keepalive/i);
      assert.ok(conn.isClosed);
    } finally {
      process.kill(session, 'SIGKILL');
      process.kill(session, 'SIGCONT');
    }
  });
});
