/**
 * Node runtime provisioning on the real sshd and Slurm of test/services. The "distribution" is
 * built here from this machine's own node binary in the official layout
 * (`node-v<version>-linux-x64/bin/node`, a real SHASUMS256.txt) and served by a local HTTP
 * server, the mirror (`nodeDist: { url }`). User orrery-bare's PATH finds a `node` that reports
 * v16.20.2, so the default `node: 'auto'` must provision. The laptop cache is a fresh
 * ORRERY_HOME per scenario. The figures the issue asks for (first and second start, tarball size)
 * are printed as `measure:` lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { init, shutdown, remote, get, command, BackendError } from 'orrery-compute';
import { Head } from '../../orchestrator/head/head.ts';
import { LocalBackend } from '../../backends/local/local-backend.ts';
import { createSshBackend } from '../../backends/ssh/index.ts';
import { createSlurmBackend } from '../../backends/slurm/index.ts';
import { closedPort, tempDir } from './helpers.ts';
import { NODE_PLATFORM, NODE_TARBALL, NODE_VERSION, type NodeMirror, startNodeMirror } from './node-mirror.ts';
import { requireService, sshService } from '../services/env.ts';

const sshUp = requireService('ssh');
const VERSION = NODE_VERSION;
const PLATFORM = NODE_PLATFORM;
const RUNTIME = `${VERSION}-${PLATFORM}`;
const TARBALL = NODE_TARBALL;
const homeOf = (user: string) => execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5]!;
const runtimeDirOf = (user: string) => `${homeOf(user)}/.orrery/runtime`;
const login = (user: string) => `${user}@${sshService.host}:${sshService.port}`;
const keys = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };

let nodeMirror: NodeMirror;
let mirror = '';

/** A fresh laptop cache (ORRERY_HOME) for the next backends. */
function freshLaptopHome(): string {
  const home = tempDir('laptop-home');
  process.env.ORRERY_HOME = home;
  return home;
}

/** Removes a user's provisioned runtimes (as root: the "remote" host is this machine). */
function wipeRuntimes(user: string): void {
  execFileSync('rm', ['-rf', '--', runtimeDirOf(user)]);
}

const whichNode = remote({ numCpus: 0 }, async () => ({
  execPath: process.execPath,
  version: process.version,
  job: process.env.SLURM_JOB_ID,
}));

describe('Node provisioning', { skip: !sshUp && 'the test sshd is not running (see the message above)' }, () => {
  const logs: string[] = [];
  let head: Head;
  const savedHome = process.env.ORRERY_HOME;

  before(async () => {
    nodeMirror = await startNodeMirror();
    mirror = nodeMirror.url;
    freshLaptopHome();
    head = new Head({ log: (l) => logs.push(l), infeasibleGraceMs: 60_000 });
    await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
    await init({ cluster: { head }, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await head?.shutdown();
    nodeMirror?.close();
    if (savedHome === undefined) delete process.env.ORRERY_HOME;
    else process.env.ORRERY_HOME = savedHome;
  });

  const bare = (name: string, extra: Record<string, unknown> = {}) =>
    createSshBackend({
      name,
      kind: 'ssh',
      hosts: [login(sshService.bareUser)],
      ...keys,
      nodeDist: { url: `${mirror}/dist` },
      ...extra,
    });

  async function refused(backend: ReturnType<typeof bare>, ...parts: string[]): Promise<BackendError> {
    const err = await head.addBackend(backend).then(
      () => assert.fail('the backend started'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BackendError, String(err));
    for (const p of parts) assert.ok(err.message.includes(p), `"${p}" missing from: ${err.message}`);
    return err;
  }

  /** Entries of a user's ~/.orrery/runtime (none when it does not exist). */
  const runtimeEntries = (user: string) => (existsSync(runtimeDirOf(user)) ? readdirSync(runtimeDirOf(user)) : []);

  test('a bad checksum is one clear error; nothing is left half-installed on the host or in the cache', async () => {
    wipeRuntimes(sshService.bareUser);
    const laptop = freshLaptopHome();
    const err = await refused(
      bare('bad-sum', { nodeDist: { url: `${mirror}/bad` } }),
      `backend bad-sum: the Node tarball ${mirror}/bad/v${VERSION}/${TARBALL} has sha256`,
      `but ${mirror}/bad/v${VERSION}/SHASUMS256.txt says ${'e'.repeat(64)}`,
      `nothing was installed on ${login(sshService.bareUser)}`,
    );
    assert.equal(err.retryable, false);
    assert.deepEqual(runtimeEntries(sshService.bareUser), []);
    assert.deepEqual(readdirSync(join(laptop, 'cache', 'node')), [], 'no tarball or temporary file is cached');
  });

  test('an unreachable mirror and a missing release are one error each, naming the host and nodeDist', async () => {
    const port = await closedPort();
    await refused(
      bare('no-mirror', { nodeDist: { url: `http://127.0.0.1:${port}/dist` } }),
      `cannot download Node for ${login(sshService.bareUser)} from http://127.0.0.1:${port}/dist/v${VERSION}/SHASUMS256.txt (ECONNREFUSED)`,
      'nodeDist: { url }',
      'nodeDist: { file }',
    );
    await refused(bare('no-release', { nodeDist: { url: `${mirror}/nowhere` } }), 'HTTP 404', 'set nodeDist');
    assert.deepEqual(runtimeEntries(sshService.bareUser), []);
  });

  test('an architecture Node has no build for is refused, suggesting node or nodeDist', async () => {
    const fake = `${homeOf(sshService.bareUser)}/bin/uname`;
    execFileSync('runuser', [
      '-u',
      sshService.bareUser,
      '--',
      'sh',
      '-c',
      `printf '#!/bin/sh\\necho Linux riscv64\\n' > ${fake} && chmod 755 ${fake}`,
    ]);
    try {
      await refused(
        bare('riscv', { node: 'bundled' }),
        `${login(sshService.bareUser)} is \`Linux riscv64\` (uname -sm)`,
        'set node to the absolute path',
        'nodeDist: { file }',
      );
    } finally {
      execFileSync('rm', ['-f', fake]);
    }
  });

  test('a full disk on the host fails the upload or the unpack with one error, and leaves nothing behind', async () => {
    wipeRuntimes(sshService.bareUser);
    const dir = runtimeDirOf(sshService.bareUser);
    const uid = execFileSync('id', ['-u', sshService.bareUser], { encoding: 'utf8' }).trim();
    execFileSync('runuser', ['-u', sshService.bareUser, '--', 'mkdir', '-p', '-m', '700', dir]);
    // 4 MB: the upload fails; tarball size + 8 MB: the upload fits and the unpack fails.
    for (const [size, expect] of [
      ['4m', 'uploading'],
      [`${Math.ceil(nodeMirror.tarballBytes / 1e6) + 8}m`, 'the disk there is full'],
    ] as const) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=700,uid=${uid}`, 'tmpfs', dir]);
      try {
        await refused(
          bare(`full-${size}`),
          `cannot provision Node ${RUNTIME} on ${login(sshService.bareUser)}`,
          expect,
          'nothing was left behind',
        );
        assert.deepEqual(readdirSync(dir), [], `nothing left in the runtime folder (${size})`);
      } finally {
        execFileSync('umount', [dir]);
      }
    }
  });

  test('nodeDist: { file }: a tarball on this machine, checked against a SHASUMS256.txt beside it when there is one', async () => {
    const host = login(sshService.gpuUser);
    const dir = tempDir('node-file');
    const file = join(dir, TARBALL);
    writeFileSync(file, nodeMirror.files.get(`/dist/v${VERSION}/${TARBALL}`)!);
    writeFileSync(join(dir, 'SHASUMS256.txt'), nodeMirror.files.get(`/bad/v${VERSION}/SHASUMS256.txt`)!);
    wipeRuntimes(sshService.gpuUser);
    await refused(
      bare('file-bad', { hosts: [host], node: 'bundled', nodeDist: { file } }),
      `nodeDist.file ${file} has sha256`,
      `but ${join(dir, 'SHASUMS256.txt')} says ${'e'.repeat(64)}`,
      `nothing was installed on ${host}`,
    );
    assert.deepEqual(runtimeEntries(sshService.gpuUser), []);
    execFileSync('rm', [join(dir, 'SHASUMS256.txt')]);
    const mark = logs.length;
    await head.addBackend(bare('file-ok', { hosts: [host], node: 'bundled', nodeDist: { file } }));
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    assert.ok(
      logs
        .slice(mark)
        .some((l) => l.includes(`no SHASUMS256.txt entry beside it to check against; its sha256 is ${sha}`)),
      logs.slice(mark).join('\n'),
    );
    const r = await get(whichNode.options({ backend: 'file-ok' }).remote());
    assert.equal(r.execPath, `${runtimeDirOf(sshService.gpuUser)}/${RUNTIME}/bin/node`);
  });

  test('a host whose node is v16 gets a provisioned runtime; a second start uploads nothing', async () => {
    wipeRuntimes(sshService.bareUser);
    freshLaptopHome();
    const before = nodeMirror.requests.get(`/dist/v${VERSION}/${TARBALL}`) ?? 0;
    let t0 = Date.now();
    await head.addBackend(bare('bare-1'));
    const firstS = (Date.now() - t0) / 1000;
    const r = await get(whichNode.options({ backend: 'bare-1' }).remote());
    assert.equal(r.execPath, `${runtimeDirOf(sshService.bareUser)}/${RUNTIME}/bin/node`);
    assert.equal(r.version, process.version);
    assert.ok(
      logs.some(
        (l) =>
          l.includes(`provisioned Node v${VERSION} on ${login(sshService.bareUser)}`) &&
          l.includes("the host's node is v16.20.2"),
      ),
      logs.join('\n'),
    );
    assert.equal(nodeMirror.requests.get(`/dist/v${VERSION}/${TARBALL}`), before + 1);
    const mode = statSync(`${runtimeDirOf(sshService.bareUser)}/${RUNTIME}`).mode & 0o777;
    assert.equal(mode, 0o700, 'the runtime folder is private');
    assert.deepEqual(runtimeEntries(sshService.bareUser), [RUNTIME], 'no temporary folder is left');

    t0 = Date.now();
    await head.addBackend(bare('bare-2'));
    const secondS = (Date.now() - t0) / 1000;
    assert.ok(
      logs.some(
        (l) =>
          l.includes(`Node v${VERSION} already provisioned on ${login(sshService.bareUser)}`) &&
          l.includes('nothing uploaded'),
      ),
      logs.join('\n'),
    );
    assert.equal(nodeMirror.requests.get(`/dist/v${VERSION}/${TARBALL}`), before + 1, 'downloaded once');
    assert.equal((await get(whichNode.options({ backend: 'bare-2' }).remote())).execPath, r.execPath);
    const cmd = await get(command({ backend: 'bare-2', numCpus: 0 }).remote({ argv: ['node', '--version'] }));
    assert.equal(
      cmd.stdout.trim(),
      process.version,
      "a command task's `node` is the provisioned one, not the host's v16",
    );
    t0 = Date.now();
    await head.addBackend(bare('own-node', { hosts: [login(sshService.user)], nodeDist: undefined }));
    const ownS = (Date.now() - t0) / 1000;
    process.stdout.write(
      `measure: tarball ${TARBALL} ${(nodeMirror.tarballBytes / 1e6).toFixed(1)} MB; ssh backend start on a bare host: first ${firstS.toFixed(2)} s (download + upload + unpack), second ${secondS.toFixed(2)} s; a host with its own node ${ownS.toFixed(2)} s\n`,
    );
    process.stdout.write(
      `measure: ${logs.filter((l) => l.includes('bare-1: ') && /provisioned Node|downloaded http/.test(l)).join('\nmeasure: ')}\n`,
    );
  });

  test("node: 'bundled' provisions on the loopback sshd even where the host's node would do", async () => {
    wipeRuntimes(sshService.user);
    await head.addBackend(bare('bundled-ssh', { hosts: [login(sshService.user)], node: 'bundled' }));
    const r = await get(whichNode.options({ backend: 'bundled-ssh' }).remote());
    assert.equal(r.execPath, `${runtimeDirOf(sshService.user)}/${RUNTIME}/bin/node`);
  });

  test('two backends provisioning the same host at once provision it once', async () => {
    wipeRuntimes(sshService.gpuUser);
    const host = login(sshService.gpuUser);
    const mark = logs.length;
    await Promise.all(
      ['twin-a', 'twin-b'].map((name) => head.addBackend(bare(name, { hosts: [host], node: 'bundled' }))),
    );
    const lines = logs.slice(mark);
    assert.equal(
      lines.filter((l) => l.includes(`provisioned Node v${VERSION} on ${host}`)).length,
      1,
      lines.join('\n'),
    );
    assert.equal(lines.filter((l) => l.includes(`already provisioned on ${host}`)).length, 1, lines.join('\n'));
    assert.deepEqual(runtimeEntries(sshService.gpuUser), [RUNTIME]);
    for (const name of ['twin-a', 'twin-b'])
      assert.equal(
        (await get(whichNode.options({ backend: name }).remote())).execPath,
        `${runtimeDirOf(sshService.gpuUser)}/${RUNTIME}/bin/node`,
      );
  });

  test('two heads (processes) provisioning one home at once: one installs, the other uses its runtime', async () => {
    wipeRuntimes(sshService.gpuUser);
    const host = login(sshService.gpuUser);
    const src = (f: string) => new URL(`../../backends/transport/ssh/${f}`, import.meta.url).pathname;
    const script = `
      import { SshConnection } from ${JSON.stringify(src('connection.ts'))};
      import { resolveTarget } from ${JSON.stringify(src('ssh-config.ts'))};
      import { resolveRemoteNode } from ${JSON.stringify(src('node-runtime.ts'))};
      const conn = await SshConnection.open({ backend: 'race', target: resolveTarget(${JSON.stringify(host)}, { configText: '' }),
        identityFile: ${JSON.stringify(keys.identityFile)}, knownHostsFile: ${JSON.stringify(keys.knownHostsFile)} });
      const n = await resolveRemoteNode(conn, { node: 'bundled', nodeDist: { url: ${JSON.stringify(`${mirror}/dist`)} } }, 'race', () => {});
      process.stdout.write(JSON.stringify({ path: n.path, uploaded: n.runtime.uploaded }));
      conn.close();`;
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 120_000,
      });
    const results = (await Promise.all([run(), run()])).map(
      (r) => JSON.parse(r.stdout) as { path: string; uploaded: boolean },
    );
    assert.deepEqual(results.map((r) => r.uploaded).sort(), [false, true], 'exactly one process installed the runtime');
    for (const r of results) assert.equal(r.path, `${runtimeDirOf(sshService.gpuUser)}/${RUNTIME}/bin/node`);
    assert.deepEqual(runtimeEntries(sshService.gpuUser), [RUNTIME], 'the loser left no temporary folder');
  });

  test("node: 'bundled' on Slurm: the compute node runs the runtime from the shared home", async (t) => {
    if (!requireService('slurm', t)) return;
    wipeRuntimes(sshService.user);
    await head.addBackend(
      createSlurmBackend({
        name: 'hpc-bundled',
        kind: 'slurm',
        loginHost: login(sshService.user),
        ...keys,
        partition: 'debug',
        cpusPerNode: 1,
        maxNodes: 1,
        idleTimeoutS: 2,
        node: 'bundled',
        nodeDist: { url: `${mirror}/dist` },
      }),
    );
    const r = await get(whichNode.options({ backend: 'hpc-bundled' }).remote());
    assert.match(r.job ?? '', /^\d+$/, 'the task ran in a Slurm job');
    assert.equal(r.execPath, `${runtimeDirOf(sshService.user)}/${RUNTIME}/bin/node`);
  });

  test('orrery backends test shows the Node; backends clean removes an old runtime and keeps the current one', async () => {
    const dir = tempDir('node-cli');
    const cfg = join(dir, 'orrery.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        backends: [
          {
            name: 'bare',
            kind: 'ssh',
            hosts: [login(sshService.bareUser)],
            ...keys,
            nodeDist: { url: `${mirror}/dist` },
          },
        ],
      }),
    );
    const orrery = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', ...args], {
        encoding: 'utf8',
        timeout: 180_000,
        env: { ...process.env },
      });
    const tested = await orrery('backends', 'test', 'bare', '--config', cfg);
    const current = `${runtimeDirOf(sshService.bareUser)}/${RUNTIME}`;
    assert.match(
      tested.stdout,
      new RegExp(`node v${VERSION.replace(/\./g, '\\.')} at ${current}/bin/node \\(provisioned by Orrery\\)`),
    );
    assert.match(tested.stdout, /~\/\.orrery caches: agents \d+ \([\d.]+ [kMG]B\), runtime 1 \([\d.]+ MB\)/);
    assert.match(tested.stdout, /Node tarball cache on this machine: .*1 tarball/);
    assert.match(tested.stdout, /probe task ran on/);

    const as = (cmd: string) => execFileSync('runuser', ['-u', sshService.bareUser, '--', 'sh', '-c', cmd]);
    const old = `${runtimeDirOf(sshService.bareUser)}/18.20.4-${PLATFORM}`;
    const oldEnv = `${homeOf(sshService.bareUser)}/.orrery/envs/0123abcd`;
    as(
      `mkdir -p ${old}/bin ${oldEnv} && head -c 300000 /dev/urandom > ${old}/bin/node && touch -d '30 days ago' ${old} ${oldEnv} ${current}`,
    );
    const cleaned = await orrery('backends', 'clean', 'bare', '--older-than', '7', '--config', cfg);
    assert.match(cleaned.stdout, new RegExp(`removed ~/\\.orrery/runtime/18\\.20\\.4-${PLATFORM} \\(\\d+ kB\\)`));
    assert.match(cleaned.stdout, /removed ~\/\.orrery\/envs\/0123abcd/);
    assert.match(cleaned.stdout, /removed \d+ entries, .* \(\d+ bytes\)/);
    assert.ok(!existsSync(old) && !existsSync(oldEnv));
    assert.ok(existsSync(`${current}/bin/node`), 'the runtime in use is kept, however old its folder');
    const again = await orrery('backends', 'clean', 'bare', '--config', cfg);
    assert.match(again.stdout, /nothing unused for more than 7 days/);
  });
});
