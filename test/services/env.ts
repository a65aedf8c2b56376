/**
 * The real services the integration tests talk to (started by test/services/start.sh): their
 * fixed addresses, users, keys and paths, and a quick probe of which ones are up.
 *
 * A test that needs a service calls {@link requireService} first. Under CI (`CI` set) a missing
 * service fails the test with the reason, so a broken setup can never pass as skipped tests; in
 * local development the test is skipped with a loud message saying how to start the services.
 * When the process runs as root, a missing sshd or Slurm is first started (install.sh and
 * start.sh, once per process) unless ORRERY_NO_SERVICE_START is set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where start.sh keeps keys, known_hosts files, configs and logs. */
export const SERVICES_ROOT = '/var/lib/orrery-test';

const servicesDir = dirname(fileURLToPath(import.meta.url));

/** The test sshd on loopback and how to log in to it. */
export const sshService = {
  host: '127.0.0.1',
  port: 2222,
  /** Plain test user: `node` on its PATH, no nvidia-smi. */
  user: 'orrery-test',
  /** Same keys as `user`, plus a fake nvidia-smi reporting two A100-SXM4-80GB (81920 MiB). */
  gpuUser: 'orrery-gpu',
  /** Same keys; its PATH finds a `node` that reports v16.20.2 (a host Orrery must provision Node on). */
  bareUser: 'orrery-bare',
  /** Private key without a passphrase, authorized for all three users. */
  keyPath: `${SERVICES_ROOT}/keys/id_ed25519`,
  /** Private key encrypted with {@link sshService.passphrase}, authorized for all three users. */
  passphraseKeyPath: `${SERVICES_ROOT}/keys/id_ed25519_pass`,
  passphrase: 'orrery-pass',
  /** The server's real host key for `[127.0.0.1]:2222`, one plain line. */
  knownHostsPath: `${SERVICES_ROOT}/known_hosts`,
  /** The same entry hashed (`ssh-keygen -H`, `|1|salt|hash ...`). */
  knownHostsHashedPath: `${SERVICES_ROOT}/known_hosts_hashed`,
  /** A different key for `[127.0.0.1]:2222`: verification against it must fail. */
  knownHostsWrongPath: `${SERVICES_ROOT}/known_hosts_wrong`,
  /** sshd's own log (LogLevel VERBOSE), for failure messages. */
  logPath: `${SERVICES_ROOT}/sshd/sshd.log`,
} as const;

/** The one-node Slurm cluster on this machine. */
export const slurmService = {
  nodeName: hostname(),
  partition: 'debug',
  cpus: 2,
  realMemoryMb: 8000,
  /** Generic resources of the node: `--gres=gpu:a100:2` sets CUDA_VISIBLE_DEVICES=0,1. */
  gpuType: 'a100',
  gpus: 2,
  logDir: `${SERVICES_ROOT}/slurm`,
} as const;

/**
 * A second Slurm cluster of two nodes on this machine (two slurmd; start.sh step slurm-pair),
 * chosen with SLURM_CONF: the slurm backend's `slurmConf`. For multi-node gangs.
 */
export const slurmPairService = {
  conf: `${SERVICES_ROOT}/slurm-pair/slurm.conf`,
  partition: 'pair',
  nodes: ['pair1', 'pair2'],
} as const;

/**
 * A slurm backend config for the test cluster, logging in as {@link sshService.user}: one 1-CPU
 * allocation at a time, released after 3 s idle; `overrides` replace any of it.
 */
export function testSlurmConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'hpc',
    kind: 'slurm',
    loginHost: `${sshService.user}@${sshService.host}:${sshService.port}`,
    identityFile: sshService.keyPath,
    knownHostsFile: sshService.knownHostsPath,
    partition: slurmService.partition,
    cpusPerNode: 1,
    maxNodes: 1,
    idleTimeoutS: 3,
    ...overrides,
  };
}

/**
 * A second local user on this machine (created by start.sh, no SSH login): the "other user on
 * a shared machine" that the security tests act as, through {@link asIntruder}.
 */
export const intruderUser = 'orrery-intruder';

/**
 * Runs `argv` as {@link intruderUser} (`runuser`, so this process must be root) and returns its
 * exit status and output. Call {@link requireIntruder} first.
 */
export function asIntruder(
  argv: readonly string[],
  opts: { input?: string; timeoutMs?: number; cwd?: string } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('runuser', ['-u', intruderUser, '--', ...argv], {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 30_000,
    cwd: opts.cwd ?? '/',
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}

/**
 * True when the tests can act as a second local user (root, and start.sh made the user). Like
 * {@link requireService}: under CI a missing user fails the test; locally it is skipped loudly.
 */
export function requireIntruder(t?: { skip(message?: string): void }): boolean {
  const exists = () => spawnSync('id', ['-u', intruderUser]).status === 0;
  if (process.getuid?.() === 0 && !exists() && !process.env.ORRERY_NO_SERVICE_START) {
    spawnSync('bash', [join(servicesDir, 'start.sh')], { stdio: ['ignore', 2, 2], timeout: 600_000 });
  }
  const ok = process.getuid?.() === 0 && exists();
  if (ok) return true;
  const why =
    process.getuid?.() !== 0
      ? 'the cross-user tests must run as root (they act as a second user through runuser)'
      : `user ${intruderUser} does not exist; start the services as root with \`npm run services\``;
  if (process.env.CI) throw new Error(`second local user is not available: ${why}`);
  if (!warned.has('intruder')) {
    warned.add('intruder');
    const bar = '!'.repeat(100);
    process.stderr.write(`\n${bar}\n!! SKIPPING CROSS-USER TESTS: ${why}\n${bar}\n\n`);
  }
  t?.skip(why);
  return false;
}

/** What the fake nvidia-smi of {@link sshService.gpuUser} reports. */
export const fakeGpus = {
  name: 'NVIDIA A100-SXM4-80GB',
  memoryTotalMiB: 81920,
  count: 2,
} as const;

/** A service a test can depend on. */
export type ServiceName = 'ssh' | 'slurm' | 'slurm-pair' | 'keyring';

/** Which services answered the probe; `reason` says what is wrong with each missing one. */
export interface ServicesStatus {
  ssh: boolean;
  slurm: boolean;
  'slurm-pair': boolean;
  keyring: boolean;
  reason?: string;
}

/** A service a test needs is not running (raised under CI, where tests must not skip). */
export class ServiceMissingError extends Error {
  override readonly name = 'ServiceMissingError';
  constructor(
    readonly service: ServiceName,
    readonly reason: string,
  ) {
    super(`${service} is not available: ${reason}. ${howToStart(service)}`);
  }
}

function howToStart(service: ServiceName): string {
  return service === 'keyring'
    ? 'Run the tests inside test/services/keyring.sh (e.g. `bash test/services/keyring.sh npm test`).'
    : 'Start the services as root with `npm run services` (test/services/install.sh and start.sh).';
}

let cached: ServicesStatus | undefined;

/**
 * Probes the services (a TCP connect that must see an SSH banner, `sinfo -h`, and a session
 * bus address for the keyring); about 0.1 s the first time, cached afterwards.
 */
export function servicesAvailable(options: { refresh?: boolean } = {}): ServicesStatus {
  if (cached && !options.refresh) return cached;
  const reasons: string[] = [];
  const ssh = probeSsh();
  if (ssh !== true) reasons.push(`ssh: ${ssh}`);
  const slurm = probeSlurm();
  if (slurm !== true) reasons.push(`slurm: ${slurm}`);
  const pair = probeSlurm(slurmPairService.partition, { ...process.env, SLURM_CONF: slurmPairService.conf });
  if (pair !== true) reasons.push(`slurm-pair: ${pair}`);
  const keyring = process.env.DBUS_SESSION_BUS_ADDRESS
    ? true
    : 'DBUS_SESSION_BUS_ADDRESS is not set (not inside keyring.sh)';
  if (keyring !== true) reasons.push(`keyring: ${keyring}`);
  cached = { ssh: ssh === true, slurm: slurm === true, 'slurm-pair': pair === true, keyring: keyring === true };
  if (reasons.length > 0) cached.reason = reasons.join('; ');
  return cached;
}

function probeSsh(): true | string {
  for (const path of [sshService.keyPath, sshService.passphraseKeyPath, sshService.knownHostsPath]) {
    if (!existsSync(path)) return `${path} is missing`;
  }
  // A child process keeps the probe synchronous; the server must greet with an SSH banner.
  const script = `const s = require('node:net').connect(${sshService.port}, '${sshService.host}');
    s.setTimeout(2000, () => process.exit(3));
    s.once('data', (d) => process.exit(String(d).startsWith('SSH-2.0-') ? 0 : 4));
    s.on('error', () => process.exit(2));`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 5000 });
  if (r.status === 0) return true;
  if (r.status === 4) return `${sshService.host}:${sshService.port} answers but is not an SSH server`;
  return `nothing answers on ${sshService.host}:${sshService.port}`;
}

function probeSlurm(partition: string = slurmService.partition, env = process.env): true | string {
  const r = spawnSync('sinfo', ['-h', '-o', '%t', '-p', partition], { encoding: 'utf8', timeout: 10_000, env });
  if (r.error) return `sinfo cannot run (${r.error.message})`;
  if (r.status !== 0) return `sinfo -h failed: ${(r.stderr ?? '').trim().split('\n').pop() ?? ''}`;
  if (r.stdout.trim() === '') return `partition ${partition} has no nodes`;
  return true;
}

let startAttempted = false;

/**
 * Starts sshd and Slurm when they are missing and this process is root, once per process
 * (install.sh then start.sh, their lines on stderr); returns the fresh status.
 */
export function ensureServices(): ServicesStatus {
  const status = servicesAvailable();
  if ((status.ssh && status.slurm && status['slurm-pair']) || startAttempted) return status;
  startAttempted = true;
  if (process.env.ORRERY_NO_SERVICE_START || process.getuid?.() !== 0) return status;
  for (const script of ['install.sh', 'start.sh']) {
    const r = spawnSync('bash', [join(servicesDir, script)], { stdio: ['ignore', 2, 2], timeout: 600_000 });
    if (r.status !== 0) break;
  }
  return servicesAvailable({ refresh: true });
}

const warned = new Set<ServiceName | 'intruder'>();

/**
 * True when `service` is up. Otherwise: under CI throws {@link ServiceMissingError}; locally
 * prints a loud message once, skips the test through `t` when given, and returns false.
 *
 *     test('runs over ssh', async (t) => {
 *       if (!requireService('ssh', t)) return;
 *       ...
 *     });
 */
export function requireService(service: ServiceName, t?: { skip(message?: string): void }): boolean {
  const status = service === 'keyring' ? servicesAvailable() : ensureServices();
  if (status[service]) return true;
  const reason = reasonFor(service, status);
  if (process.env.CI) throw new ServiceMissingError(service, reason);
  const error = new ServiceMissingError(service, reason);
  if (!warned.has(service)) {
    warned.add(service);
    const bar = '!'.repeat(100);
    process.stderr.write(`\n${bar}\n!! SKIPPING ${service.toUpperCase()} TESTS: ${error.message}\n${bar}\n\n`);
  }
  t?.skip(error.message);
  return false;
}

function reasonFor(service: ServiceName, status: ServicesStatus): string {
  const part = (status.reason ?? '').split('; ').find((r) => r.startsWith(`${service}: `));
  return part ? part.slice(service.length + 2) : 'not running';
}
