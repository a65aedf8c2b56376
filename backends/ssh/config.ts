/** The ssh backend's config (`kind: 'ssh'`), checked where it enters. */
import type { BackendConfigBase } from '../types.ts';
import { transferConfigProblem, type ObjectTransferMode } from '../../orchestrator/protocol/agent-spec.ts';
import type { SshLoginConfig } from '../transport/ssh/login.ts';
import { checkNodeConfig, NODE_CONFIG_KEYS, type NodeRuntimeConfig } from '../transport/ssh/node-dist.ts';
import { parseHostSpec, SshConfigError } from '../transport/ssh/ssh-config.ts';

/** Config of an ssh backend: one node per host. */
export interface SshBackendConfig extends BackendConfigBase, SshLoginConfig, NodeRuntimeConfig {
  readonly kind: 'ssh';
  /** `'user@host:port'`, `'host'`, or an alias from the ssh config. */
  readonly hosts: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  /** Per node; default: what the agent finds on the host. */
  readonly numCpus?: number;
  readonly numGpus?: number;
  readonly resources?: Readonly<Record<string, number>>;
  /** Bytes of large values each node keeps in memory before spilling to its disk; default 30% of its RAM. */
  readonly objectStoreMemory?: number;
  /** How other nodes fetch this backend's nodes' objects: 'direct', 'relay' (through the head) or 'auto' (default). */
  readonly objectTransfer?: ObjectTransferMode;
  /** Address each node's object transfer server binds. */
  readonly transferBind?: string;
}

const KEYS = [
  'name',
  'kind',
  'hosts',
  'identityFile',
  'passphraseSecret',
  'knownHostsFile',
  'sshConfigFile',
  ...NODE_CONFIG_KEYS,
  'labels',
  'numCpus',
  'numGpus',
  'resources',
  'maxSessions',
  'objectStoreMemory',
  'objectTransfer',
  'transferBind',
];

/** Checks an ssh backend config; every error names the field, what was given and what is allowed. */
export function validateSshConfig(config: unknown): SshBackendConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new TypeError('ssh backend config must be an object with name, kind and hosts');
  const c = config as Record<string, unknown>;
  if (typeof c.name !== 'string' || c.name === '')
    throw new TypeError(`ssh backend config: name must be a non-empty string (got ${show(c.name)})`);
  const where = `backend ${c.name}`;
  const fail = (field: string, allowed: string): never => {
    throw new TypeError(`${where}: ${field} must be ${allowed} (got ${show(c[field])})`);
  };
  if (c.kind !== 'ssh') fail('kind', "'ssh'");
  for (const k of Object.keys(c))
    if (!KEYS.includes(k)) throw new TypeError(`${where}: unknown key ${k} for kind ssh; allowed: ${KEYS.join(', ')}`);
  if (!Array.isArray(c.hosts) || c.hosts.length === 0)
    fail('hosts', "a non-empty array of 'user@host:port' strings or ~/.ssh/config aliases");
  (c.hosts as unknown[]).forEach((h, i) => {
    try {
      parseHostSpec(h as string);
    } catch (err) {
      throw new TypeError(`${where}: hosts[${i}]: ${err instanceof SshConfigError ? err.message : String(err)}`);
    }
  });
  if (new Set(c.hosts as string[]).size !== (c.hosts as string[]).length)
    fail('hosts', 'a list without duplicates (one node per host)');
  checkNodeConfig(c, fail);
  for (const k of ['identityFile', 'passphraseSecret', 'knownHostsFile', 'sshConfigFile'] as const) {
    if (c[k] !== undefined && (typeof c[k] !== 'string' || c[k] === '')) fail(k, 'a non-empty string');
  }
  if (c.passphraseSecret !== undefined && c.identityFile === undefined)
    fail('passphraseSecret', 'set together with identityFile (the key it decrypts)');
  for (const k of ['numCpus', 'numGpus'] as const) {
    if (c[k] !== undefined && (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || (c[k] as number) < 0))
      fail(k, 'a number >= 0');
  }
  if (c.numGpus !== undefined && !Number.isInteger(c.numGpus)) fail('numGpus', 'an integer >= 0');
  if (c.maxSessions !== undefined && (!Number.isInteger(c.maxSessions) || (c.maxSessions as number) < 1))
    fail('maxSessions', 'an integer >= 1');
  if (
    c.objectStoreMemory !== undefined &&
    !(typeof c.objectStoreMemory === 'number' && c.objectStoreMemory > 0 && Number.isFinite(c.objectStoreMemory))
  )
    fail('objectStoreMemory', 'a number of bytes > 0');
  const transferProblem = transferConfigProblem(c);
  if (transferProblem) throw new TypeError(`${where}: ${transferProblem}`);
  if (c.labels !== undefined && !isRecordOf(c.labels, (v) => typeof v === 'string'))
    fail('labels', 'an object of string values');
  if (
    c.resources !== undefined &&
    !isRecordOf(c.resources, (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
  )
    fail('resources', 'an object of numbers >= 0');
  return c as unknown as SshBackendConfig;
}

function isRecordOf(v: unknown, ok: (x: unknown) => boolean): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(ok);
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
