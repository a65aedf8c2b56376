/**
 * Command tasks in containers (`runtimeEnv.container`) with Debian's real Podman and the image
 * localhost/orrery-busybox that test/services/start.sh builds without a registry (FROM scratch +
 * a static busybox): on the local backend as root, and on the ssh backend as orrery-test
 * (rootless podman) through the loopback sshd. Cancel must leave no container behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  init,
  shutdown,
  command,
  remote,
  get,
  cancel,
  state,
  CommandFailedError,
  RuntimeEnvSetupError,
  TaskCancelledError,
  TaskUnschedulableError,
  type CommandResult,
  type ObjectRef,
} from 'orrery-compute';
import { Head } from '../../orchestrator/head/head.ts';
import { LocalBackend } from '../../backends/local/local-backend.ts';
import { createSshBackend } from '../../backends/ssh/index.ts';
import { tempDir, until } from './helpers.ts';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { requireService, sshService, testSlurmConfig } from '../services/env.ts';

const IMAGE = 'localhost/orrery-busybox';
/** In the loopback registry of start.sh only (busybox plus an 8 MiB file /payload). */
const PULL_IMAGE = '127.0.0.1:5055/orrery-pull';
const sshUp = requireService('ssh');
const slurmUp = sshUp && requireService('slurm');
const podmanThere = existsSync('/usr/bin/podman');
if (!podmanThere && process.env.CI) throw new Error('podman is not installed: run `npm run services` as root');

/** `podman <args>` as root (the local node) or as the ssh test user (the remote node), through the real sshd. */
function podman(as: 'root' | 'ssh', args: string[]): string {
  if (as === 'root') return execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return execFileSync(
    'ssh',
    [
      '-n',
      '-p',
      String(sshService.port),
      '-i',
      sshService.keyPath,
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${sshService.knownHostsPath}`,
      `${sshService.user}@${sshService.host}`,
      `podman ${quoted}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
}

/** Names of the containers Orrery started that still exist (running or not). */
const orreryContainers = (as: 'root' | 'ssh') =>
  podman(as, ['ps', '-a', '--format', '{{.Names}}'])
    .split('\n')
    .filter((n) => n.startsWith('orrery-'));

async function infoOf(ref: ObjectRef<unknown>): Promise<Record<string, string | number | boolean>> {
  const row = (await state.listTasks()).find((r) => r.taskId === ref.id);
  const node = (await state.listNodes()).find((n) => n.nodeId === row?.nodeId);
  return { ...row?.info, backend: node?.backend ?? '' };
}

/** Runs a command and measures the whole call as the driver sees it. */
async function timed(ref: ObjectRef<CommandResult>): Promise<{ r: CommandResult; ms: number }> {
  const t0 = performance.now();
  const r = await get(ref);
  return { r, ms: performance.now() - t0 };
}

describe('container command tasks', { skip: !podmanThere && 'podman is not installed (npm run services)' }, () => {
  let head: Head;

  before(async () => {
    head = new Head({ log: () => {}, infeasibleGraceMs: 10_000 });
    await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 2 }));
    // Two declared GPUs (this host has no NVIDIA device and no CDI spec for one).
    await head.addBackend(new LocalBackend({ name: 'gpus', kind: 'local', numCpus: 1, numGpus: 2 }));
    // A node whose config claims Apptainer, which this host lacks: the task is placed there and fails at its start.
    await head.addBackend(
      new LocalBackend({
        name: 'claims',
        kind: 'local',
        numCpus: 1,
        labels: { 'orrery.io/container.apptainer': 'yes' },
      }),
    );
    if (sshUp)
      await head.addBackend(
        createSshBackend({
          name: 'remote',
          kind: 'ssh',
          hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
          identityFile: sshService.keyPath,
          knownHostsFile: sshService.knownHostsPath,
        }),
      );
    if (slurmUp) await head.addBackend(await createBackend(testSlurmConfig()));
    await init({ cluster: { head }, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await head?.shutdown();
  });

  // hpc: rootless podman as orrery-test inside a Slurm allocation (slurmd starts the agent).
  for (const [backend, as] of [
    ['local', 'root'],
    ['remote', 'ssh'],
    ['hpc', 'ssh'],
  ] as const) {
    const up = backend === 'local' || (backend === 'remote' ? sshUp : slurmUp);
    test(`${backend}: the program runs in the image, reads its input, writes an output that comes back, sees env`, async (t) => {
      if (!up) return t.skip(`the ${backend} backend's service is not running`);
      const run = command({
        backend,
        outputs: ['out/*.txt'],
        runtimeEnv: {
          env: { FROM_RUNTIME_ENV: 'rt-value' },
          container: { image: IMAGE, runtime: 'podman', options: ['--tmpfs', '/scratch'] },
        },
      });
      const call = {
        argv: [
          '/bin/busybox',
          'sh',
          '-c',
          // /usr exists on the host, not in the image; /scratch exists only through the options.
          'test ! -e /usr && test -d /scratch && mkdir -p out && /bin/busybox tr a-z A-Z < in.txt > out/up.txt && echo "$GREETING $FROM_RUNTIME_ENV $(pwd)"',
        ],
        inputs: { 'in.txt': 'hello container\n' },
        env: { GREETING: 'hi' },
      };
      const first = run.remote(call);
      const a = await timed(first);
      const b = await timed(run.remote(call));
      for (const { r } of [a, b]) {
        assert.equal(new TextDecoder().decode(r.files['out/up.txt']), 'HELLO CONTAINER\n');
        assert.match(r.stdout, /^hi rt-value \/.*\/cmd-[^/]+\n$/);
      }
      const info = await infoOf(first);
      assert.equal(info.backend, backend);
      assert.equal(info.containerRuntime, 'podman');
      assert.equal(info.containerImage, IMAGE);
      console.log(
        `[measure] ${backend}: first call ${a.ms.toFixed(0)} ms, second ${b.ms.toFixed(0)} ms (image ${info.containerImageAction}, setup ${info.containerSetupMs} ms)`,
      );
      assert.deepEqual(orreryContainers(as), [], 'containers run with --rm');
    });

    test(`${backend}: cancel of a sleep 60 in a container removes the container`, async (t) => {
      if (!up) return t.skip(`the ${backend} backend's service is not running`);
      const ref = command({ backend, runtimeEnv: { container: { image: IMAGE } } }).remote({
        argv: ['/bin/busybox', 'sleep', '60'],
      });
      await until('the container to run', () => orreryContainers(as).length > 0, 60_000);
      const t0 = performance.now();
      await cancel(ref);
      await assert.rejects(get(ref), TaskCancelledError);
      await until('no orrery container in podman ps -a', () => orreryContainers(as).length === 0, 20_000);
      console.log(`[measure] ${backend}: container gone ${(performance.now() - t0).toFixed(0)} ms after cancel`);
    });

    test(`${backend}: a force cancel (the worker is killed) still removes the container`, async (t) => {
      if (!up) return t.skip(`the ${backend} backend's service is not running`);
      const ref = command({ backend, runtimeEnv: { container: { image: IMAGE } } }).remote({
        argv: ['/bin/busybox', 'sleep', '60'],
      });
      await until('the container to run', () => orreryContainers(as).length > 0, 60_000);
      await cancel(ref, { force: true });
      await assert.rejects(get(ref), TaskCancelledError);
      await until('no orrery container in podman ps -a', () => orreryContainers(as).length === 0, 20_000);
    });
  }

  for (const [backend, as] of [
    ['local', 'root'],
    ['remote', 'ssh'],
  ] as const) {
    test(`${backend}: an image name missing on the host is pulled once from its registry, then found`, async (t) => {
      if (backend === 'remote' && !sshUp) return t.skip('the test sshd is not running');
      try {
        podman(as, ['rmi', '--force', PULL_IMAGE]);
      } catch {
        /* not there */
      }
      const run = command({ backend, runtimeEnv: { container: { image: PULL_IMAGE } } });
      const refs = [run.remote({ argv: ['/bin/busybox', 'wc', '-c', '/payload'] })];
      const a = await timed(refs[0]!);
      refs.push(run.remote({ argv: ['/bin/busybox', 'wc', '-c', '/payload'] }));
      const b = await timed(refs[1]!);
      assert.match(a.r.stdout, /^8388608 \/payload\n$/);
      assert.equal(b.r.stdout, a.r.stdout);
      const [i1, i2] = [await infoOf(refs[0]!), await infoOf(refs[1]!)];
      assert.equal(i1.containerImageAction, 'pulled');
      assert.equal(i2.containerImageAction, 'cached');
      console.log(
        `[measure] ${backend} pull (8 MiB layer, loopback registry): first call ${a.ms.toFixed(0)} ms (setup ${i1.containerSetupMs} ms), second ${b.ms.toFixed(0)} ms (setup ${i2.containerSetupMs} ms)`,
      );
    });
  }

  test('env values reach the container but no command line: only names are on argv', async () => {
    const value = `sekrit-${process.pid}-${Date.now()}`;
    const ref = command({ backend: 'local', runtimeEnv: { container: { image: IMAGE } } }).remote({
      argv: ['/bin/busybox', 'sh', '-c', 'echo "$API_TOKEN" > seen; /bin/busybox sleep 3; cat seen'],
      env: { API_TOKEN: value },
    });
    await until('the container to run', () => orreryContainers('root').length > 0, 60_000);
    const cmdlines = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      });
    assert.ok(
      cmdlines.some((c) => c.includes('--env\0API_TOKEN\0')),
      'the podman run command line names the variable',
    );
    assert.deepEqual(
      cmdlines.filter((c) => c.includes(value)),
      [],
      'no process has the value on its command line',
    );
    assert.equal((await get(ref)).stdout, `${value}\n`);
  });

  test("the lease's GPUs are passed to podman as CDI devices", async () => {
    const ref = command({ backend: 'gpus', numGpus: 1, runtimeEnv: { container: { image: IMAGE } } }).remote({
      argv: ['/bin/busybox', 'true'],
    });
    // No CDI spec on this host: podman refuses, naming the device it was asked for.
    await assert.rejects(get(ref), (e: unknown) => {
      assert.ok(e instanceof CommandFailedError, String(e));
      assert.match(e.stderrTail, /unresolvable CDI devices nvidia\.com\/gpu=[01]\b/);
      return true;
    });
  });

  test('a missing image: RuntimeEnvSetupError naming the node, the image and what to do', async () => {
    const ref = command({
      backend: 'local',
      runtimeEnv: { container: { image: 'localhost/orrery-no-such-image' } },
    }).remote({
      argv: ['/bin/busybox', 'true'],
    });
    await assert.rejects(get(ref), (e: unknown) => {
      assert.ok(e instanceof RuntimeEnvSetupError, String(e));
      assert.equal(e.field, 'container.image');
      assert.match(e.message, /node \S+ \(.*backend local\)/);
      assert.match(
        e.message,
        /image localhost\/orrery-no-such-image is not on this host and podman pull .* failed; pull or load it there first/,
      );
      return true;
    });
  });

  test('a runtime no node has: the task is unschedulable, and the message says which runtime and what to do', async () => {
    // Apptainer is not installed here (docker's CLI may be, without a daemon).
    const ref = command({ backend: 'local', runtimeEnv: { container: { image: IMAGE, runtime: 'apptainer' } } }).remote(
      {
        argv: ['/bin/busybox', 'true'],
      },
    );
    await assert.rejects(get(ref), (e: unknown) => {
      assert.ok(e instanceof TaskUnschedulableError, String(e));
      assert.match(
        e.message,
        /label orrery\.io\/container\.apptainer=yes \(no node has apptainer on its PATH: install it there/,
      );
      return true;
    });
  });

  test('a node that claims a runtime it lacks: RuntimeEnvSetupError at the start, saying which and what to install', async () => {
    const ref = command({
      backend: 'claims',
      runtimeEnv: { container: { image: IMAGE, runtime: 'apptainer' } },
    }).remote({
      argv: ['/bin/busybox', 'true'],
    });
    await assert.rejects(get(ref), (e: unknown) => {
      assert.ok(e instanceof RuntimeEnvSetupError, String(e));
      assert.match(e.message, /node \S+ \(.*backend claims\) has no apptainer on its PATH/);
      assert.match(e.message, /install /);
      return true;
    });
  });

  test('an image archive on the node (podman save, OCI and docker formats) is loaded once, then found by its hash', async () => {
    const dir = tempDir('container-archive');
    for (const format of ['oci-archive', 'docker-archive']) {
      const archive = join(dir, `${format}.tar`);
      podman('root', ['save', '--format', format, '-o', archive, IMAGE]);
      const hashTags = podman('root', ['images', '--format', '{{.Repository}}:{{.Tag}}'])
        .split('\n')
        .filter((n) => n.startsWith('localhost/orrery-archive:'));
      if (hashTags.length > 0) podman('root', ['rmi', ...hashTags]);
      const run = command({ backend: 'local', runtimeEnv: { container: { image: archive } } });
      const refs = [run.remote({ argv: ['/bin/busybox', 'echo', 'one'] })];
      const a = await timed(refs[0]!);
      refs.push(run.remote({ argv: ['/bin/busybox', 'echo', 'two'] }));
      const b = await timed(refs[1]!);
      assert.equal(a.r.stdout, 'one\n');
      assert.equal(b.r.stdout, 'two\n');
      const [i1, i2] = [await infoOf(refs[0]!), await infoOf(refs[1]!)];
      assert.equal(i1.containerImageAction, 'loaded');
      assert.equal(i2.containerImageAction, 'cached');
      assert.match(String(i1.containerImage), /^localhost\/orrery-archive:[0-9a-f]{24}$/);
      assert.equal(i1.containerImage, i2.containerImage);
      console.log(
        `[measure] ${format}: first call ${a.ms.toFixed(0)} ms (load, setup ${i1.containerSetupMs} ms), second ${b.ms.toFixed(0)} ms (setup ${i2.containerSetupMs} ms)`,
      );
    }
  });

  test('tasks that start together on one host load a new archive once: the others wait and find it', async () => {
    const archive = join(tempDir('container-archive-together'), 'busybox.tar');
    podman('root', ['save', '-o', archive, IMAGE]);
    const hashTags = podman('root', ['images', '--format', '{{.Repository}}:{{.Tag}}'])
      .split('\n')
      .filter((n) => n.startsWith('localhost/orrery-archive:'));
    if (hashTags.length > 0) podman('root', ['rmi', ...hashTags]);
    const run = command({ backend: 'local', numCpus: 0.5, runtimeEnv: { container: { image: archive } } });
    const refs = [1, 2, 3, 4].map((i) => run.remote({ argv: ['/bin/busybox', 'echo', String(i)] }));
    assert.deepEqual(
      (await get(refs)).map((r) => r.stdout),
      ['1\n', '2\n', '3\n', '4\n'],
    );
    const actions = await Promise.all(refs.map(async (r) => (await infoOf(r)).containerImageAction));
    assert.deepEqual(actions.sort(), ['cached', 'cached', 'cached', 'loaded']);
  });

  test('runtimeEnv.container on a function task or an actor is a TypeError that points at command tasks', () => {
    const container = { image: IMAGE };
    assert.throws(
      () => remote({ runtimeEnv: { container } }, () => 1),
      /runtimeEnv\.container applies to command tasks only/,
    );
    class A {}
    // Actors take no runtimeEnv at all today; the container check stands behind that one.
    assert.throws(() => remote(A).options({ runtimeEnv: { container } } as never), /runtimeEnv/);
  });
});
