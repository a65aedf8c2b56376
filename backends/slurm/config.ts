/** The slurm backend's config (`kind: 'slurm'`), validated where it enters. */
import type { BackendConfigBase } from '../types.ts';
import { transferConfigProblem, type ObjectTransferMode } from '../../orchestrator/protocol/agent-spec.ts';
import type { SshLoginConfig } from '../transport/ssh/login.ts';
import { checkNodeConfig, NODE_CONFIG_KEYS, type NodeRuntimeConfig } from '../transport/ssh/node-dist.ts';
import { parseHostSpec } from '../transport/ssh/ssh-config.ts';

/** Config of a slurm backend: a login host reached over SSH, and what each allocation asks for. */
export interface SlurmBackendConfig extends BackendConfigBase, SshLoginConfig, NodeRuntimeConfig {
  readonly kind: 'slurm';
  /** The login node, as an ssh host (`user@host:port` or an ~/.ssh/config alias). */
  readonly loginHost: string;
  readonly partition?: string;
  readonly account?: string;
  readonly qos?: string;
  /** Slurm time limit of each allocation (`--time`), e.g. `2:00:00`. */
  readonly timeLimit?: string;
  /** CPUs per allocation (`--cpus-per-task`); default 1. */
  readonly cpusPerNode?: number;
  /** Memory per allocation (`--mem`), e.g. `8G`. */
  readonly memPerNode?: string;
  /** Generic resources (`--gres`), e.g. `gpu:a100:1`: the GPU count becomes the node's GPU resource. */
  readonly gres?: string;
  /** The cluster's slurm.conf on the login host, when not the default (SLURM_CONF of every Slurm command). */
  readonly slurmConf?: string;
  /** More srun options, passed as they are. */
  readonly srunArgs?: readonly string[];
  /** Allocations held at once; default 1. */
  readonly maxNodes?: number;
  /** An allocation idle this long is released; default 300 s. */
  readonly idleTimeoutS?: number;
  // node, nodeDist, nodePath (NodeRuntimeConfig): Node is found or provisioned on the login host;
  // compute nodes run the same path (a provisioned runtime lives in the shared home).
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: Readonly<Record<string, number>>;
  /** Bytes of large values each allocation's agent keeps in memory before spilling to its disk; default 30% of the node's RAM. */
  readonly objectStoreMemory?: number;
  /** How other nodes fetch this backend's nodes' objects: 'direct', 'relay' (through the head) or 'auto' (default). */
  readonly objectTransfer?: ObjectTransferMode;
  /** Address each node's object transfer server binds. */
  readonly transferBind?: string;
}

const KEYS = [
  'name',
  'kind',
  'loginHost',
  'partition',
  'account',
  'qos',
  'timeLimit',
  'cpusPerNode',
  'memPerNode',
  'gres',
  'srunArgs',
  'slurmConf',
  'maxNodes',
  'idleTimeoutS',
  'identityFile',
  'passphraseSecret',
  'knownHostsFile',
  'sshConfigFile',
  'maxSessions',
  ...NODE_CONFIG_KEYS,
  'labels',
  'resources',
  'objectStoreMemory',
  'objectTransfer',
  'transferBind',
];
const SLURM_WORD = /^[\w.:@%,+-]+$/;

/** Checks a slurm backend config; errors name the field and what is allowed. */
export function validateSlurmConfig(config: unknown): SlurmBackendConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new TypeError('slurm backend config must be an object with name, kind and loginHost');
  const c = config as Record<string, unknown>;
  const where = `backend ${String(c.name)}`;
  const fail = (field: string, allowed: string): never => {
    throw new TypeError(`${where}: ${field} must be ${allowed} (got ${JSON.stringify(c[field])})`);
  };
  if (typeof c.name !== 'string' || c.name === '') fail('name', 'a non-empty string');
  if (c.kind !== 'slurm') fail('kind', "'slurm'");
  for (const k of Object.keys(c))
    if (!KEYS.includes(k))
      throw new TypeError(`${where}: unknown key ${k} for kind slurm; allowed: ${KEYS.join(', ')}`);
  if (typeof c.loginHost !== 'string' || c.loginHost === '')
    fail('loginHost', "an ssh host such as 'user@login.cluster:22'");
  try {
    parseHostSpec(c.loginHost as string);
  } catch (err) {
    throw new TypeError(`${where}: loginHost: ${(err as Error).message}`);
  }
  for (const k of ['partition', 'account', 'qos', 'timeLimit', 'memPerNode', 'gres']) {
    if (c[k] !== undefined && (typeof c[k] !== 'string' || !SLURM_WORD.test(c[k] as string)))
      fail(k, 'a Slurm value without spaces or shell characters');
  }
  checkNodeConfig(c, fail);
  if (c.slurmConf !== undefined && (typeof c.slurmConf !== 'string' || !c.slurmConf.startsWith('/')))
    fail('slurmConf', 'an absolute path on the login host');
  for (const k of ['identityFile', 'passphraseSecret', 'knownHostsFile', 'sshConfigFile']) {
    if (c[k] !== undefined && (typeof c[k] !== 'string' || c[k] === '')) fail(k, 'a non-empty string');
  }
  if (c.cpusPerNode !== undefined && (!Number.isInteger(c.cpusPerNode) || (c.cpusPerNode as number) < 1))
    fail('cpusPerNode', 'an integer >= 1');
  if (c.maxSessions !== undefined && (!Number.isInteger(c.maxSessions) || (c.maxSessions as number) < 1))
    fail('maxSessions', 'an integer >= 1');
  if (
    c.objectStoreMemory !== undefined &&
    !(typeof c.objectStoreMemory === 'number' && c.objectStoreMemory > 0 && Number.isFinite(c.objectStoreMemory))
  )
    fail('objectStoreMemory', 'a number of bytes > 0');
  const transferProblem = transferConfigProblem(c);
  if (transferProblem) throw new TypeError(`${where}: ${transferProblem}`);
  if (c.maxNodes !== undefined && (!Number.isInteger(c.maxNodes) || (c.maxNodes as number) < 1))
    fail('maxNodes', 'an integer >= 1');
  if (c.idleTimeoutS !== undefined && (typeof c.idleTimeoutS !== 'number' || (c.idleTimeoutS as number) < 0))
    fail('idleTimeoutS', 'a number of seconds >= 0');
  if (
    c.srunArgs !== undefined &&
    (!Array.isArray(c.srunArgs) || c.srunArgs.some((a) => typeof a !== 'string' || !a.startsWith('-')))
  )
    fail('srunArgs', "a list of srun options such as ['--constraint=a100']");
  if (c.gres !== undefined && gpusOf(c.gres as string) === undefined)
    fail('gres', "a gres list such as 'gpu:a100:1' or 'gpu:2'");
  return c as unknown as SlurmBackendConfig;
}

/** GPUs requested by a gres string (`gpu:a100:2` -> 2, `gpu` -> 1, none -> 0); undefined if malformed. */
export function gpusOf(gres: string | undefined): number | undefined {
  if (!gres) return 0;
  let total = 0;
  for (const part of gres.split(',')) {
    const f = part.split(':');
    if (f[0] !== 'gpu') continue;
    const n = f.length === 1 ? 1 : Number(f[f.length - 1]);
    if (f.length > 1 && !/^\d+$/.test(f[f.length - 1]!)) {
      if (f.length === 2) {
        total += 1;
        continue;
      }
      return undefined;
    }
    total += n;
  }
  return total;
}

/** The GPU model named in a gres string (`gpu:a100:1` -> `A100`), for the accelerator label. */
export function gpuModelOf(gres: string | undefined): string | undefined {
  const part = gres?.split(',').find((p) => p.startsWith('gpu:'));
  const f = part?.split(':') ?? [];
  return f.length === 3
    ? f[1]!.toUpperCase()
    : f.length === 2 && !/^\d+$/.test(f[1]!)
      ? f[1]!.toUpperCase()
      : undefined;
}
