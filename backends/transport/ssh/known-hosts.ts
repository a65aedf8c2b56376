/**
 * Host key checking against an OpenSSH known_hosts file, the way `ssh` does with
 * StrictHostKeyChecking=yes: a key not in the file is refused (and we print the command that
 * trusts it), a different key for a known host is refused loudly (it may be an attack).
 * ssh2 accepts any host key unless told otherwise, so every connection goes through here.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { shellPath, shellQuote } from '../shell-quote.ts';

/** One usable line of a known_hosts file. */
interface KnownHostEntry {
  readonly line: number;
  /** `'plain'` comma list of patterns, or `'hashed'` `|1|salt|hash`. */
  readonly hosts: { kind: 'plain'; patterns: string[] } | { kind: 'hashed'; salt: Buffer; hash: Buffer };
  readonly keyType: string;
  readonly key: Buffer;
  readonly revoked: boolean;
}

/** The outcome of checking a host key. */
export type HostKeyVerdict =
  /** The file lists this key for this host. */
  | { readonly ok: true }
  /**
   * Refused: `unknown` (host absent, or only keys of other types), `changed` (the host is listed
   * with another key of this type), `revoked` (an `@revoked` line names this key).
   */
  | { readonly ok: false; readonly reason: 'unknown' | 'changed' | 'revoked'; readonly message: string };

/** The OpenSSH fingerprint of a public key blob: `SHA256:` and unpadded base64 of its SHA-256. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob (its first SSH string), e.g. `ssh-ed25519`. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const n = keyBlob.readUInt32BE(0);
  return n > 0 && n < 64 && keyBlob.length >= 4 + n ? keyBlob.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

/** The name a host is filed under: `host` on port 22, `[host]:port` otherwise (as `ssh` writes it). */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Parses known_hosts text; malformed lines, comments and `@cert-authority` lines are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let revoked = false;
    if (fields[0]!.startsWith('@')) {
      // We do not do host certificates, so a CA line trusts nothing here; a revoked key is remembered to refuse it.
      if (fields[0] !== '@revoked') return;
      revoked = true;
      fields.shift();
    }
    const [hostField, keyType, keyB64] = fields;
    if (!hostField || !keyType || !keyB64) return;
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) return;
    let hosts: KnownHostEntry['hosts'];
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|');
      if (!salt || !hash) return;
      hosts = { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      hosts = { kind: 'plain', patterns: hostField.split(',') };
    }
    out.push({ line: i + 1, hosts, keyType, key, revoked });
  });
  return out;
}

/** True when an entry's host field names `name` (`[host]:port` or `host`). */
function entryMatches(e: KnownHostEntry, name: string): boolean {
  if (e.hosts.kind === 'hashed') {
    const mac = createHmac('sha1', e.hosts.salt).update(name).digest();
    return mac.length === e.hosts.hash.length && timingSafeEqual(mac, e.hosts.hash);
  }
  let matched = false;
  for (const p of e.hosts.patterns) {
    const negated = p.startsWith('!');
    if (globMatch(name, negated ? p.slice(1) : p)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatch(name: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\[/g, '\\[')
    .replace(/\]/g, '\\]')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/** Shortens a path under the home directory to `~/...` for commands users copy. */
function tildePath(path: string, home = homedir()): string {
  return path.startsWith(`${home}/`) ? `~/${path.slice(home.length + 1)}` : path;
}

/** A known_hosts file, read once. */
export class KnownHosts {
  private constructor(
    private readonly entries: readonly KnownHostEntry[],
    readonly file: string,
  ) {}

  /** Reads the file; a missing file is an empty one (every host is then unknown, with the command to trust it). */
  static load(file: string): KnownHosts {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new KnownHosts(parseKnownHosts(text), file);
  }

  /** Builds from text (tests, or a file read elsewhere). */
  static fromText(text: string, file: string): KnownHosts {
    return new KnownHosts(parseKnownHosts(text), file);
  }

  /** Checks the key `host:port` presented (the raw public key blob ssh2 hands to `hostVerifier`). */
  verify(host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
    const name = knownHostName(host, port);
    const type = keyTypeOf(keyBlob);
    const fp = fingerprint(keyBlob);
    const forHost = this.entries.filter((e) => entryMatches(e, name));
    const file = tildePath(this.file);
    const scan = `ssh-keyscan -p ${port} ${shellQuote(host)} >> ${shellPath(file)}`;
    if (forHost.some((e) => e.revoked && e.key.equals(keyBlob))) {
      return {
        ok: false,
        reason: 'revoked',
        message: `the host key of ${name} (${type} ${fp}) is marked @revoked in ${file}; refusing to connect. Ask the host's administrator for its current key.`,
      };
    }
    const trusted = forHost.filter((e) => !e.revoked);
    if (trusted.some((e) => e.key.equals(keyBlob))) return { ok: true };
    const sameType = trusted.filter((e) => e.keyType === type);
    if (sameType.length > 0) {
      const known = sameType.map((e) => `${fingerprint(e.key)} (${file} line ${e.line})`).join(', ');
      const rm = `ssh-keygen -R ${shellQuote(name)} -f ${shellPath(file)}`;
      return {
        ok: false,
        reason: 'changed',
        message:
          `HOST KEY CHANGED for ${name}: ${file} expects ${type} ${known}, but the host offered ${fp}. ` +
          `Someone may be intercepting the connection, or the host was reinstalled. Refusing to connect. ` +
          `If you know the change is legitimate, remove the old key with \`${rm}\`, then trust the new one with \`${scan}\`.`,
      };
    }
    const others =
      trusted.length > 0
        ? ` (${file} lists only ${[...new Set(trusted.map((e) => e.keyType))].join(', ')} keys for it)`
        : '';
    return {
      ok: false,
      reason: 'unknown',
      message:
        `host key of ${name} is not in ${file}${others}: the host offered ${type} ${fp}. ` +
        `Check that fingerprint with the host's administrator (\`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host), ` +
        `then trust it with \`${scan}\`.`,
    };
  }
}
