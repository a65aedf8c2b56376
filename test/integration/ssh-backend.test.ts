/**
 * The ssh backend against the real OpenSSH server of test/services (127.0.0.1:2222, users
 * orrery-test and orrery-gpu): tasks on remote nodes, host key and login failures, the keychain
 * passphrase, GPU detection, a connection cut mid-task, and the bundle uploaded once.
 * The "remote" host is this machine, so tests may look at its processes and shared temp dirs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, shutdown, remote, get, nodes, BackendError } from 'orrery-compute';
import { Head } from '../../orchestrator/head/head.ts';
import { LocalBackend } from '../../backends/local/local-backend.ts';
import { createSshBackend, type SshBackend } from '../../backends/ssh/index.ts';
import { SshConnection } from '../../backends/transport/ssh/connection.ts';
import { resolveTarget } from '../../backends/transport/ssh/ssh-config.ts';
import { agentBundle } from '../../backends/transport/ssh/agent-bundle.ts';
import { closedPort, linesOf, tempDir, until } from './helpers.ts';
import { fakeGpus, requireService, sshService } from '../services/env.ts';

const sshUp = requireService('ssh');
const sshd = {
  ...sshService,
  key: sshService.keyPath,
  keyWithPassphrase: sshService.passphraseKeyPath,
  knownHosts: sshService.knownHostsPath,
  knownHostsHashed: sshService.knownHostsHashedPath,
  knownHostsWrong: sshService.knownHostsWrongPath,
};

const HOST = `${sshd.user}@${sshd.host}:${sshd.port}`;
const base = { kind: 'ssh', hosts: [HOST], identityFile: sshd.key, knownHostsFile: sshd.knownHosts };

/** Fingerprints as `ssh-keygen -l` prints them for a known_hosts file. */
const fingerprintsIn = (file: string) =>
  execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' }).match(/SHA256:\S+/g) ?? [];

/** Runs a command as the ssh test user through our own connection (the bundle test's probe). */
async function remoteRun(command: string): Promise<string> {
  const conn = await SshConnection.open({
    backend: 'probe',
    target: resolveTarget(HOST, { configText: '' }),
    identityFile: sshd.key,
    knownHostsFile: sshd.knownHosts,
  });
  try {
    return (await conn.run(command)).stdout.trim();
  } finally {
    conn.close();
  }
}

const where = remote(async () => {
  const { getRuntimeContext } = await import('orrery-compute');
  const { userInfo } = await import('node:os');
  const c = getRuntimeContext();
  return { backend: c.backend, nodeId: c.nodeId, user: userInfo().username };
});

describe('ssh backend', { skip: !sshUp && 'the test sshd is not running (see the message above)' }, () => {
  const logs: string[] = [];
  let head: Head;
  let localNode = '';

  before(async () => {
    head = new Head({ log: (l) => logs.push(l), infeasibleGraceMs: 30_000 });
    await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
    localNode = head.queries.nodeIds()[0]!;
    await init({ cluster: { head }, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await head?.shutdown();
  });

  test('the agent bundle is uploaded once: a second start finds it by its hash', async () => {
    const { hash } = await agentBundle();
    await remoteRun(`rm -rf ~/.orrery/agents/${hash}`);
    const uploads = () => logs.filter((l) => l.includes(`uploaded agent bundle ${hash}`)).length;
    await head.addBackend(createSshBackend({ ...base, name: 'bundle-1' }));
    assert.equal(uploads(), 1);
    // The inode, not the time: each start touches the folder (its last use, for backends clean).
    const inode = await remoteRun(`stat -c %i ~/.orrery/agents/${hash}`);
    assert.match(inode, /^\d+$/);
    const files = await remoteRun(`cd ~/.orrery/agents/${hash} && find . -type f | sort`);
    const { files: expected } = await agentBundle();
    assert.deepEqual(files.split('\n'), [...expected.keys()].map((f) => `./${f}`).sort());
    await head.addBackend(createSshBackend({ ...base, name: 'bundle-2' }));
    assert.equal(uploads(), 1, 'the second backend must not upload again');
    assert.equal(await remoteRun(`stat -c %i ~/.orrery/agents/${hash}`), inode, 'the folder was not replaced');
    assert.equal(
      await remoteRun(`ls -a ~/.orrery/agents | grep -c '^.tmp-' || true`),
      '0',
      'no temporary upload directory is left',
    );
  });

  test('tasks run on the ssh node (hashed known_hosts), as the remote user', async () => {
    await head.addBackend(createSshBackend({ ...base, name: 'remote', knownHostsFile: sshd.knownHostsHashed }));
    const ctx = await get(where.options({ backend: 'remote' }).remote());
    assert.equal(ctx.backend, 'remote');
    assert.equal(ctx.user, sshd.user);
    assert.notEqual(ctx.nodeId, localNode);
    const local = await get(where.options({ backend: 'local' }).remote());
    assert.equal(local.nodeId, localNode);
    const nested = remote({ backend: 'remote' }, async (x: number) => {
      const { remote, get } = await import('orrery-compute');
      return get(remote((y: number) => y * 2).remote(x));
    });
    assert.equal(await get(nested.remote(21)), 42);
  });

  test('a host behind a ProxyJump jump host (from an ssh config file) runs tasks', async () => {
    const file = join(tempDir('ssh-jump-config'), 'ssh_config');
    writeFileSync(
      file,
      `Host gpu-behind-bastion\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.gpuUser}\n  ProxyJump ${HOST}\n`,
    );
    await head.addBackend(
      createSshBackend({ ...base, name: 'jumped', hosts: ['gpu-behind-bastion'], sshConfigFile: file }),
    );
    const ctx = await get(where.options({ backend: 'jumped' }).remote());
    assert.deepEqual([ctx.backend, ctx.user], ['jumped', sshd.gpuUser]);
  });

  /** Asserts that adding a backend with `config` fails with one BackendError matching every pattern. */
  async function refused(
    name: string,
    config: Record<string, unknown>,
    ...patterns: (RegExp | string)[]
  ): Promise<BackendError> {
    let caught: unknown;
    await head.addBackend(createSshBackend({ ...base, ...config, name })).catch((e: unknown) => (caught = e));
    assert.ok(caught instanceof BackendError, `expected a BackendError, got ${String(caught)}`);
    for (const p of patterns) {
      if (typeof p === 'string')
        assert.ok(caught.message.includes(p), `${JSON.stringify(p)} not in: ${caught.message}`);
      else assert.match(caught.message, p);
    }
    assert.ok(
      !(await nodes()).some((n) => n.backend === name && n.state === 'ALIVE'),
      `backend ${name} must have no live node`,
    );
    return caught;
  }

  test('a changed host key is refused with both fingerprints and ssh-keygen -R', async () => {
    const [real] = fingerprintsIn(sshd.knownHosts);
    const [wrong] = fingerprintsIn(sshd.knownHostsWrong);
    const err = await refused(
      'wrong-host-key',
      { knownHostsFile: sshd.knownHostsWrong },
      'HOST KEY CHANGED',
      real!,
      wrong!,
      `ssh-keygen -R '[127.0.0.1]:${sshd.port}'`,
    );
    assert.equal(err.retryable, false);
  });

  test('an unknown host is refused with its fingerprint and the ssh-keyscan command', async () => {
    const dir = tempDir('ssh-kh');
    const empty = join(dir, 'known_hosts');
    writeFileSync(empty, '');
    const [real] = fingerprintsIn(sshd.knownHosts);
    await refused(
      'unknown-host',
      { knownHostsFile: empty },
      'is not in',
      real!,
      `ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${empty}`,
    );
  });

  test('a key the server does not accept is refused, naming the key tried', async () => {
    const dir = tempDir('ssh-key');
    const key = join(dir, 'id_stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const [fp] = fingerprintsIn(`${key}.pub`);
    const err = await refused(
      'wrong-key',
      { identityFile: key },
      `${sshd.user}@127.0.0.1:${sshd.port} refused every credential offered`,
      `key ${key} (${fp})`,
      'authorized_keys',
    );
    assert.equal(err.retryable, false);
  });

  test('an unreachable port is refused with the address and the OS error', async () => {
    const port = await closedPort();
    const err = await refused(
      'unreachable',
      { hosts: [`${sshd.user}@127.0.0.1:${port}`] },
      `cannot reach 127.0.0.1:${port}`,
      'ECONNREFUSED',
    );
    assert.equal(err.retryable, true);
  });

  test('a missing or old node on the host is refused, saying how to set node', async () => {
    await refused(
      'no-node',
      { nodePath: '/nonexistent/bin/node' },
      'node was not found',
      '/nonexistent/bin/node',
      'set node to its absolute path',
    );
    const dir = tempDir('ssh-old-node');
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'node'), '#!/bin/sh\necho v18.19.1\n', { mode: 0o755 });
    await refused('old-node', { nodePath: join(dir, 'node') }, 'is v18.19.1', 'needs >= 20', "node: 'auto'");
  });

  test('an encrypted key without passphraseSecret is refused with what to do', async () => {
    await refused(
      'no-passphrase',
      { identityFile: sshd.keyWithPassphrase },
      'is encrypted and no passphrase is configured',
      'passphraseSecret',
    );
  });

  test('an encrypted key opens with its passphrase from the OS keychain', async (t) => {
    if (!requireService('keyring', t)) return;
    let Entry: typeof import('@napi-rs/keyring').Entry;
    const secret = `orrery-test-ssh-${process.pid}`;
    try {
      ({ Entry } = await import('@napi-rs/keyring'));
      new Entry('orrery', secret).setPassword(sshd.passphrase);
    } catch (err) {
      const why = `no usable OS keychain (${(err as Error).message}); run the tests under test/services/keyring.sh`;
      if (process.env.CI) assert.fail(why);
      return t.skip(why);
    }
    try {
      await head.addBackend(
        createSshBackend({
          ...base,
          name: 'passphrase',
          identityFile: sshd.keyWithPassphrase,
          passphraseSecret: secret,
        }),
      );
      assert.equal((await get(where.options({ backend: 'passphrase' }).remote())).backend, 'passphrase');
      await refused(
        'missing-secret',
        { identityFile: sshd.keyWithPassphrase, passphraseSecret: `${secret}-absent` },
        `has no secret ${secret}-absent`,
        `orrery secrets set ${secret}-absent`,
      );
      new Entry('orrery', secret).setPassword('not-the-passphrase');
      await refused(
        'wrong-secret',
        { identityFile: sshd.keyWithPassphrase, passphraseSecret: secret },
        'does not decrypt key',
      );
    } finally {
      new Entry('orrery', secret).deletePassword();
    }
  });

  test('GPUs from nvidia-smi on the host: label accelerator=A100, resource GPU=2', async () => {
    const gpu = createSshBackend({ ...base, name: 'gpu', hosts: [`${sshd.gpuUser}@127.0.0.1:${sshd.port}`] });
    const lines = await gpu.check!();
    assert.ok(
      lines.some((l) => l.includes(`GPUs: ${fakeGpus.count} x ${fakeGpus.name} (${fakeGpus.memoryTotalMiB} MiB)`)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /node v2\d+\./.test(l)),
      lines.join('\n'),
    );
    await head.addBackend(gpu);
    const row = (await nodes()).find((n) => n.backend === 'gpu' && n.state === 'ALIVE') as {
      labels: Record<string, string>;
      resources: Record<string, number>;
    };
    assert.equal(row.labels.accelerator, 'A100');
    assert.equal(row.resources.GPU, fakeGpus.count);
    const onGpu = await get(where.options({ backend: 'gpu', accelerator: 'A100', numGpus: 1 }).remote());
    assert.deepEqual([onGpu.backend, onGpu.user], ['gpu', sshd.gpuUser]);
  });

  test('a connection cut mid-task: a new agent joins and the task is retried there', async () => {
    const backend = createSshBackend({ ...base, name: 'cut' }) as SshBackend;
    await head.addBackend(backend);
    const dir = tempDir('ssh-cut');
    chmodSync(dir, 0o777);
    const marks = join(dir, 'attempts');
    const task = remote({ backend: 'cut', maxRetries: 3 }, async (file: string) => {
      const { appendFileSync, readFileSync } = await import('node:fs');
      const { getRuntimeContext } = await import('orrery-compute');
      appendFileSync(file, `${getRuntimeContext().nodeId}\n`);
      // The first attempt waits to be cut off; the retry finishes at once.
      if (readFileSync(file, 'utf8').trim().split('\n').length === 1) await new Promise((r) => setTimeout(r, 60_000));
      return getRuntimeContext().nodeId;
    });
    const ref = task.remote(marks);
    const [first] = await until('the first attempt to start', () => linesOf(marks).length > 0 && linesOf(marks));
    const agentPid = ((await nodes()).find((n) => n.nodeId === first) as { pid: number }).pid;
    // The agent exec'd in place of the shell, so its parent is the sshd session process serving our connection.
    const sessionPid = Number(
      readFileSync(`/proc/${agentPid}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ')[1],
    );
    assert.match(readFileSync(`/proc/${sessionPid}/cmdline`, 'utf8'), new RegExp(`^sshd: ${sshd.user}`));
    process.kill(sessionPid, 'SIGKILL');
    const second = await get(ref, { timeoutMs: 60_000 });
    assert.notEqual(second, first);
    assert.deepEqual(linesOf(marks), [first, second]);
    assert.equal(backend.hostNodes[0]!.agentStarts, 2);
    assert.equal(backend.hostNodes[0]!.nodeId, second);
    assert.ok(
      logs.some((l) => l.includes(`node ${first}`) && l.includes('dead')),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((l) => l.includes(`agent restarted as node ${second}`)),
      logs.join('\n'),
    );
  });
});
