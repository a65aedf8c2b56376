/**
 * From a backend's SSH keys (identityFile, passphraseSecret, knownHostsFile, sshConfigFile) to
 * connect options, plus the agent-stderr forwarding every SSH-started agent needs.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ClientChannel } from 'ssh2';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { SshConnectOptions } from './connection.ts';
import type { PassphraseSource } from './ssh-auth.ts';
import { resolveTarget, SshConfigError, type SshTarget } from './ssh-config.ts';
import { readSecret } from '../../../orchestrator/core/keychain.ts';

/** The SSH keys every SSH-reached backend's config has (ssh and slurm). */
export interface SshLoginConfig {
  readonly name: string;
  /** Private key to log in with (before the ssh config's IdentityFile and the ssh-agent). */
  readonly identityFile?: string;
  /** Name of the OS keychain secret holding the key's passphrase (`orrery secrets set <name>`). */
  readonly passphraseSecret?: string;
  /** Default `~/.ssh/known_hosts`. */
  readonly knownHostsFile?: string;
  /** The ssh config file to resolve hosts with; default `~/.ssh/config`. */
  readonly sshConfigFile?: string;
  /** Channels per connection (the server's sshd MaxSessions); default 10. */
  readonly maxSessions?: number;
}

/** `~/x` -> `$HOME/x`. */
export function expandHome(path: string, home = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

/** A passphrase source reading OS keychain secret `name`; each failure says how to fix it. */
export function keychainPassphrase(backend: string, name: string): PassphraseSource {
  return (keyFile) => readSecret(backend, name, `the passphrase of ${keyFile}`);
}

/** Resolves a host spec (`user@host:port` or an ssh config alias) with the backend's ssh config file. */
export function targetFor(c: SshLoginConfig, spec: string): SshTarget {
  let configText: string | undefined;
  if (c.sshConfigFile) {
    try {
      configText = readFileSync(expandHome(c.sshConfigFile), 'utf8');
    } catch (err) {
      throw new BackendError(
        c.name,
        `sshConfigFile ${c.sshConfigFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        false,
      );
    }
  }
  try {
    return resolveTarget(spec, { configText });
  } catch (err) {
    if (err instanceof SshConfigError) throw new BackendError(c.name, err.message, false);
    throw err;
  }
}

/** Connect options for `target` from the backend's keys. */
export function connectOptionsFor(c: SshLoginConfig, target: SshTarget): SshConnectOptions {
  return {
    backend: c.name,
    target,
    identityFile: c.identityFile ? expandHome(c.identityFile) : undefined,
    passphrase: c.passphraseSecret ? keychainPassphrase(c.name, c.passphraseSecret) : undefined,
    knownHostsFile: expandHome(c.knownHostsFile ?? '~/.ssh/known_hosts'),
    maxSessions: c.maxSessions,
  };
}

/** Sends an agent's stderr to `log` line by line; returns the last lines (for start-up failures). */
export function forwardStderr(ch: ClientChannel, log: (line: string) => void, keep = 20): string[] {
  const tail: string[] = [];
  let partial = '';
  const emit = (line: string) => {
    log(line);
    tail.push(line);
    if (tail.length > keep) tail.shift();
  };
  ch.stderr.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const l of lines) emit(l);
  });
  ch.stderr.once('end', () => partial && emit(partial));
  return tail;
}
