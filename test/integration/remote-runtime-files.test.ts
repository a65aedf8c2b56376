/**
 * Runtime files on hosts reached over SSH (the real sshd and Slurm of test/services; the "remote"
 * host is this machine, so another local user can look at it): private run folders, no agent spec
 * or secret on any command line, agent bundles checked before they run, and every command quoted
 * whatever a backend's name holds. Run under `flock /tmp/orrery-services-test.lock`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { init, shutdown, remote, get, nodes } from 'orrery-compute';
import { Head } from '../../orchestrator/head/head.ts';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { agentBundle } from '../../backends/transport/ssh/agent-bundle.ts';
import { durableOwner } from '../../backends/transport/ssh/remote-run-dir.ts';
import { asIntruder, requireIntruder, requireService, slurmService, sshService } from '../services/env.ts';
import { sleep, tempDir, until } from './helpers.ts';

const login = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };
const HOST = `${sshService.user}@${sshService.host}:${sshService.port}`;
const HOME = `/home/${sshService.user}`;
const RUN = `${HOME}/.orrery/run`;
/** The run folder of the test's head (its agents' names carry its owner tag, from this). */
const HEAD_RUN = join(tempDir('remote-files-home'), 'run');
/** The files of the durable agent of backend `lab` (core/runtime-dir.ts socketFileName: `lab-<owner>-<user@host:port>`, file-safe). */
const LAB_NAME = `lab-${durableOwner(HEAD_RUN)}-${sshService.user}%40${sshService.host}%3A${sshService.port}`;
const LAB = `${RUN}/${LAB_NAME}`;

/** Runs a shell command as the ssh test user on "the host" (this machine). */
function onHost(command: string): string {
  const r = spawnSync('runuser', ['-u', sshService.user, '--', 'sh', '-c', command], { encoding: 'utf8', cwd: '/' });
  return r.stdout.trim();
}

/** `<mode> <path>` of each path, as the host user sees them. */
function modes(glob: string): Map<string, string> {
  const out = onHost(`for f in ${glob}; do [ -e "$f" ] && stat -c '%a %n' "$f"; done`);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(l.indexOf(' ') + 1), l.slice(0, l.indexOf(' '))]),
  );
}

/** Every command line on the machine, as another user sees them. */
function commandLines(): string {
  return asIntruder(['ps', '-eo', 'args']).stdout;
}

const sshUp = requireService('ssh');
const intruderOk = requireIntruder();
const skip = (!sshUp || !intruderOk) && 'the test sshd or the second local user is missing (see the message above)';

const where = remote(async () => {
  const { getRuntimeContext } = await import('orrery-compute');
  return getRuntimeContext().backend;
});

describe('ssh hosts', { skip }, () => {
  const logs: string[] = [];
  let head: Head;
  const markers = tempDir('remote-files-markers');
  chmodSync(markers, 0o777);

  before(async () => {
    // A run folder left open (as `mkdir -p` with umask 022 made it before): Orrery makes it private again.
    onHost('mkdir -p ~/.orrery/run && chmod 755 ~/.orrery ~/.orrery/run');
    head = new Head({
      log: (l) => logs.push(l),
      durable: { graceS: 60, runDir: HEAD_RUN, reattach: false },
    });
    await init({ cluster: { head }, logToDriver: false });
    await head.addBackend(await createBackend({ name: 'lab', kind: 'ssh', hosts: [HOST], ...login }));
    assert.equal(await get(where.options({ backend: 'lab' }).remote()), 'lab');
  });
  after(async () => {
    await shutdown();
    await head?.shutdown();
  });

  test('an agent that outlives its head keeps its files private on the host: folders 0700, files 0600', () => {
    const dirs = modes(`${HOME}/.orrery ${RUN} ${RUN}/agent-*`);
    assert.ok(dirs.size >= 3, [...dirs].join('\n'));
    for (const [path, mode] of dirs) assert.equal(mode, '700', path);
    const files = modes(`${LAB}.*`);
    assert.ok(
      [...files.keys()].some((f) => f.endsWith('.sock')) && [...files.keys()].some((f) => f.endsWith('.secret')),
      [...files.keys()].join(', '),
    );
    for (const [path, mode] of files) assert.equal(mode, '600', path);
  });

  test("another local user cannot list the run folder, read the agent's secret or connect to its socket", () => {
    assert.notEqual(asIntruder(['ls', RUN]).status, 0);
    const [socket] = [...modes(`${LAB}.sock`).keys()];
    const r = asIntruder([
      process.execPath,
      '-e',
      `require('node:net').connect(process.argv[1]).on('connect', () => console.log('connected')).on('error', (e) => console.log(e.code))`,
      socket!,
    ]);
    assert.match(r.stdout.trim(), /^(EACCES|EPERM)$/);
  });

  test("no command line on the host shows the agent spec or the agent's secret", async () => {
    await head.addBackend(await createBackend({ name: 'plain-lab', kind: 'ssh', hosts: [HOST], ...login }));
    const secret = onHost(`cat ${LAB}.secret`);
    assert.match(secret, /^[0-9a-f]{64}$/);
    const ps = commandLines();
    assert.ok(ps.includes('agent-main.mjs'), 'the agents are running');
    assert.ok(!ps.includes(secret), "the agent's secret is on a command line");
    assert.ok(
      !/"nodeId"/.test(ps),
      `an agent spec is on a command line:\n${ps
        .split('\n')
        .filter((l) => l.includes('nodeId'))
        .join('\n')}`,
    );
  });

  test('a bundle whose files were changed on the host is replaced, never run', async () => {
    const { hash } = await agentBundle();
    const ran = join(markers, 'tampered-bundle-ran');
    onHost(
      `printf '\\n(await import("node:fs")).writeFileSync(%s, "ran");\\n' '"${ran}"' >> ~/.orrery/agents/${hash}/agent-main.mjs`,
    );
    assert.match(onHost(`tail -c 200 ~/.orrery/agents/${hash}/agent-main.mjs`), /tampered-bundle-ran/);
    await head.addBackend(await createBackend({ name: 'tampered', kind: 'ssh', hosts: [HOST], ...login }));
    assert.equal(await get(where.options({ backend: 'tampered' }).remote()), 'tampered');
    await sleep(300);
    assert.equal(existsSync(ran), false, 'the changed agent-main.mjs ran');
    assert.ok(
      logs.some((l) => l.includes(`agents/${hash} does not match its hash (agent-main.mjs was changed)`)),
      logs.join('\n'),
    );
    assert.doesNotMatch(onHost(`tail -c 200 ~/.orrery/agents/${hash}/agent-main.mjs`), /tampered-bundle-ran/);
  });

  test('a bundle folder others can write to is replaced before it runs', async () => {
    const { hash } = await agentBundle();
    onHost(`chmod 777 ~/.orrery/agents/${hash}`);
    await head.addBackend(await createBackend({ name: 'open-bundle', kind: 'ssh', hosts: [HOST], ...login }));
    assert.equal(await get(where.options({ backend: 'open-bundle' }).remote()), 'open-bundle');
    assert.ok(
      logs.some((l) => l.includes(`agents/${hash} does not match its hash (. is writable by group or others)`)),
      logs.join('\n'),
    );
    assert.equal(onHost(`stat -c %a ~/.orrery/agents/${hash}`), '700');
  });

  test('backends with hostile names run, keep their files in the run folder, and run nothing of their names', async () => {
    const marker = join(markers, 'name-ran');
    const evil = `orrery-evil-${process.pid}`;
    const names = [
      `x;touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `it's "${marker}"`,
      `../../../../tmp/${evil}`,
    ];
    for (const name of names) {
      await head.addBackend(await createBackend({ name, kind: 'ssh', hosts: [HOST], ...login }));
      assert.equal(await get(where.options({ backend: name }).remote()), name);
    }
    // A node path with the same characters (the host's node, through a link in such a folder): it only runs if passed as is.
    const nodeDir = join(tempDir('remote-node'), `it's "$(id)" \`id\`;x`);
    mkdirSync(nodeDir, { mode: 0o755 });
    chmodSync(join(nodeDir, '..'), 0o755);
    symlinkSync(process.execPath, join(nodeDir, 'node'));
    await head.addBackend(
      await createBackend({
        name: 'odd-node-path',
        kind: 'ssh',
        hosts: [HOST],
        nodePath: join(nodeDir, 'node'),
        ...login,
      }),
    );
    assert.equal(await get(where.options({ backend: 'odd-node-path' }).remote()), 'odd-node-path');
    assert.equal(existsSync(marker), false);
    assert.deepEqual(
      readdirSync('/tmp').filter((f) => f.startsWith(evil)),
      [],
      'a socket outside the run folder',
    );
    assert.equal(
      onHost(`ls -A ${RUN} | grep -c '^\\.\\.%2F.*\\.sock$' || true`),
      '1',
      "the name is one file-safe component of the socket's name",
    );
  });

  test("once the head has shut down, its agents' folders, sockets and secrets are gone from the host", async () => {
    const pids = ((await nodes()) as { backend: string; pid: number }[])
      .filter((n) => n.backend !== 'local')
      .map((n) => n.pid);
    assert.ok(pids.length >= 6, `remote agents: ${pids.join(', ')}`);
    const mine = () =>
      onHost(`ls -A ${RUN}`)
        .split('\n')
        .filter((f) => pids.some((pid) => f.includes(`-${pid}-`)) || f.startsWith(LAB_NAME));
    assert.ok(mine().length > 0, 'the agents have files while they run');
    await shutdown();
    await head.shutdown();
    assert.deepEqual(mine(), []);
  });
});

describe('slurm', {
  skip:
    (skip || !requireService('slurm')) &&
    'Slurm, the test sshd or the second local user is missing (see the message above)',
}, () => {
  test('backends with hostile names allocate, run and shut down; their job names and commands run nothing', async () => {
    const markers = tempDir('slurm-names');
    chmodSync(markers, 0o777);
    const marker = join(markers, 'pwned');
    const names = [`x;touch ${marker}`, `$(touch ${marker})`, `a'b\`touch ${marker}\`"c`];
    const pids: number[] = [];
    // One head per name, shut down as a user would: its backend scancels the allocation by job name.
    for (const name of names) {
      const head = new Head({ log: () => {}, infeasibleGraceMs: 60_000 });
      try {
        await init({ cluster: { head }, logToDriver: false });
        await head.addBackend(
          await createBackend({
            name,
            kind: 'slurm',
            loginHost: HOST,
            partition: slurmService.partition,
            cpusPerNode: 1,
            maxNodes: 1,
            idleTimeoutS: 600,
            ...login,
          }),
        );
        assert.equal(await get(where.options({ backend: name }).remote(), { timeoutMs: 90_000 }), name);
        pids.push(
          ...((await nodes()) as { backend: string; pid: number }[])
            .filter((n) => n.backend === name)
            .map((n) => n.pid),
        );
      } finally {
        await shutdown();
        await head.shutdown();
      }
    }
    await sleep(500);
    assert.deepEqual(readdirSync(markers), [], 'a name ran as a command');
    assert.ok(pids.length === names.length, `agents: ${pids.join(', ')}`);
    assert.deepEqual(
      onHost(`ls -A ${RUN}`)
        .split('\n')
        .filter((f) => pids.some((pid) => f.includes(`-${pid}-`))),
      [],
      'the agents removed their folders when their heads shut down',
    );
    const left = await until(
      'the allocations to end',
      () => {
        const jobs = execFileSync('squeue', ['-h', '-o', '%j'], { encoding: 'utf8' })
          .split('\n')
          .filter((j) => /^orrery-(x|%24|a)/.test(j));
        return jobs.length === 0 ? 'none' : undefined;
      },
      30_000,
    );
    assert.equal(left, 'none');
  });

  test('an agent sbatch starts for a service head gets its spec from a private file, not its command line', async () => {
    const head = new Head({
      log: () => {},
      durable: { graceS: 60, runDir: join(tempDir('slurm-durable-home'), 'run'), reattach: false },
    });
    try {
      await init({ cluster: { head }, logToDriver: false });
      await head.addBackend(
        await createBackend({
          name: 'hpc-files',
          kind: 'slurm',
          loginHost: HOST,
          partition: slurmService.partition,
          cpusPerNode: 1,
          maxNodes: 1,
          idleTimeoutS: 600,
          ...login,
        }),
      );
      assert.equal(await get(where.options({ backend: 'hpc-files' }).remote(), { timeoutMs: 90_000 }), 'hpc-files');
      const ps = commandLines();
      assert.ok(ps.includes('agent-main.mjs'), 'the agent is running');
      assert.ok(
        !/"nodeId"/.test(ps),
        `an agent spec is on a command line:\n${ps
          .split('\n')
          .filter((l) => l.includes('nodeId'))
          .join('\n')}`,
      );
      const [node] = head.queries.nodeIds().filter((n) => head.queries.backendOfNode(n) === 'hpc-files');
      const files = modes(`${RUN}/slurm-hpc-files-${node}.*`);
      assert.ok(
        [...files.keys()].some((f) => f.endsWith('.sock')),
        [...files.keys()].join(', '),
      );
      assert.ok(![...files.keys()].some((f) => f.endsWith('.spec')), 'the spec file is removed once read');
      for (const [path, mode] of files) assert.equal(mode, '600', path);
    } finally {
      await shutdown();
      await head.shutdown();
    }
  });
});
