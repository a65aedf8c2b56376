/**
 * Which credentials a connection offers, in OpenSSH's order: the configured key (or the
 * `IdentityFile`s of ~/.ssh/config, or the default key files), then the ssh-agent. Keys are
 * decrypted here, before connecting, so that a missing or wrong passphrase gets its own message
 * instead of ssh2's generic "All configured authentication methods failed".
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { fingerprint } from './known-hosts.ts';
import type { SshTarget } from './ssh-config.ts';

/** Key files `ssh` tries when nothing names one (ssh(1), `-i`). */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** Supplies a key's passphrase (the ssh backend reads it from the OS keychain). */
export type PassphraseSource = (keyFile: string) => Promise<string>;

/** What to authenticate with. */
export interface AuthOptions {
  readonly backend: string;
  /** An explicitly configured key: it must exist and decrypt. */
  readonly identityFile?: string;
  readonly passphrase?: PassphraseSource;
  /** The ssh-agent socket; default `SSH_AUTH_SOCK`. `''` turns the agent off. */
  readonly agentSocket?: string;
  readonly home?: string;
}

/** Credentials ready for ssh2, and how to describe them when the server refuses them all. */
export interface AuthPlan {
  readonly handler: AuthHandlerMiddleware;
  /** E.g. `key /home/me/.ssh/id_ed25519 (SHA256:...)`, `ssh-agent at /tmp/ssh-X/agent.1`. */
  readonly tried: readonly string[];
}

/** Loads and decrypts the keys for `target`, in the order they will be offered. */
export async function planAuth(target: SshTarget, opts: AuthOptions): Promise<AuthPlan> {
  const home = opts.home ?? homedir();
  const explicit = opts.identityFile ? [opts.identityFile] : [];
  const candidates = [...new Set([...explicit, ...target.identityFiles])];
  const agentSocket = opts.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '';
  if (candidates.length === 0) candidates.push(...DEFAULT_KEYS.map((k) => join(home, '.ssh', k)));
  const methods: { type: 'publickey' | 'agent'; username: string; key?: ParsedKey; agent?: string }[] = [];
  const tried: string[] = [];
  for (const file of candidates) {
    const key = await loadKey(file, file === opts.identityFile, opts);
    if (!key) continue;
    methods.push({ type: 'publickey', username: target.user, key });
    tried.push(`key ${file} (${fingerprint(key.getPublicSSH())})`);
  }
  if (agentSocket) {
    methods.push({ type: 'agent', username: target.user, agent: agentSocket });
    tried.push(`ssh-agent at ${agentSocket}`);
  }
  if (methods.length === 0) {
    throw new BackendError(
      opts.backend,
      `no key to log in to ${target.user}@${target.host} with: identityFile is not set, ~/.ssh/config names no IdentityFile for ${target.alias}, ` +
        `none of ${DEFAULT_KEYS.map((k) => `~/.ssh/${k}`).join(', ')} exists and SSH_AUTH_SOCK is not set. Set identityFile in the backend config, or start ssh-agent and ssh-add a key.`,
      false,
    );
  }
  let next = 0;
  // ssh2 calls this after each refusal; returning false makes it emit the "all methods failed" error we translate.
  const handler: AuthHandlerMiddleware = () => (next < methods.length ? (methods[next++] as never) : false);
  return { handler, tried };
}

/** Reads and decrypts one key; undefined for an absent key that was only a default or a config suggestion. */
async function loadKey(file: string, required: boolean, opts: AuthOptions): Promise<ParsedKey | undefined> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    if (!required) return undefined;
    throw new BackendError(
      opts.backend,
      `identityFile ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); point identityFile at an existing private key`,
      false,
    );
  }
  let parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message)) {
    if (!opts.passphrase) {
      if (!required) return undefined;
      throw new BackendError(
        opts.backend,
        `key ${file} is encrypted and no passphrase is configured: store the passphrase in the OS keychain (\`orrery secrets set <name>\`) and set passphraseSecret to that name, or load the key into ssh-agent (\`ssh-add ${file}\`) and leave identityFile unset`,
        false,
      );
    }
    const pass = await opts.passphrase(file);
    parsed = ssh2.utils.parseKey(data, pass);
    if (parsed instanceof Error) {
      throw new BackendError(
        opts.backend,
        `the passphrase from passphraseSecret does not decrypt key ${file} (${parsed.message}); store the right passphrase under that secret name`,
        false,
      );
    }
  }
  if (parsed instanceof Error) {
    if (!required) return undefined;
    throw new BackendError(
      opts.backend,
      `identityFile ${file} is not a private key ssh2 can read (${parsed.message}); use an OpenSSH or PEM private key (not the .pub file)`,
      false,
    );
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
  if (!key.isPrivateKey()) {
    if (!required) return undefined;
    throw new BackendError(
      opts.backend,
      `identityFile ${file} holds a public key; point it at the private key (the file without .pub)`,
      false,
    );
  }
  return key;
}
