/**
 * Where `orrery start --on` runs the head and how it logs in there: `--on <host>` and the config
 * file's `head` entry, with the keys ssh backends take (identityFile, passphraseSecret,
 * knownHostsFile, sshConfigFile) and the Node keys of bare hosts (node, nodeDist; default
 * `node: "bundled"`, because the head's SQLite addon needs the Node it was built for).
 */
import { checkNodeConfig, type NodeRuntimeConfig } from '../../backends/transport/ssh/node-dist.ts';
import type { SshLoginConfig } from '../../backends/transport/ssh/login.ts';
import { HeadHostConfigError } from './remote-head-errors.ts';

/** The head host's settings, checked. */
export interface HeadHostConfig extends SshLoginConfig, NodeRuntimeConfig {
  /** `user@host:port` or an ssh config alias. */
  readonly host: string;
}

const STRING_KEYS = ['host', 'identityFile', 'passphraseSecret', 'knownHostsFile', 'sshConfigFile'] as const;
const KEYS: readonly string[] = [...STRING_KEYS, 'node', 'nodeDist'];

/**
 * The head host from `--on` (which wins) and the config's `head` entry; `where` names the
 * config file for messages. Throws HeadHostConfigError naming the field.
 */
export function headHostConfig(
  on: string | undefined,
  entry: Readonly<Record<string, unknown>> | undefined,
  where: string,
): HeadHostConfig {
  const e = entry ?? {};
  for (const k of Object.keys(e))
    if (!KEYS.includes(k))
      throw new HeadHostConfigError(`${where}: head has unknown key ${k}; allowed: ${KEYS.join(', ')}`);
  for (const k of STRING_KEYS)
    if (e[k] !== undefined && (typeof e[k] !== 'string' || e[k] === ''))
      throw new HeadHostConfigError(`${where}: head.${k} must be a non-empty string`);
  checkNodeConfig(e as Record<string, unknown>, (field, allowed) => {
    throw new HeadHostConfigError(`${where}: head.${field} must be ${allowed}`);
  });
  const host = on ?? (e.host as string | undefined);
  if (!host)
    throw new HeadHostConfigError(
      'no head host given: pass --on user@host[:port] (or an ~/.ssh/config alias), or set "head": { "host": ... } in the config file',
    );
  return { node: 'bundled', ...(e as Partial<HeadHostConfig>), host, name: 'head' };
}

/** The settings as recorded in the laptop's head.json (paths and a keychain name, never a secret). */
export function loginRecord(c: HeadHostConfig): Record<string, unknown> {
  const { name: _name, ...rest } = c;
  return { ...rest };
}

/** Reads a record written by {@link loginRecord} back (from head.json, which only this user can write). */
export function fromLoginRecord(r: Readonly<Record<string, unknown>>): HeadHostConfig {
  return headHostConfig(undefined, r, 'head.json');
}
