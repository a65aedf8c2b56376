/**
 * Turns what a user writes for a host (`user@host:port`, or an alias from `~/.ssh/config`) into
 * the address, user, port, keys and jump hosts to connect with, the way OpenSSH's `ssh` would.
 * Only the keywords a backend needs are read: Host, HostName, User, Port, IdentityFile, ProxyJump.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where and as whom to connect, after `~/.ssh/config` was applied. */
export interface SshTarget {
  /** What the user wrote (the alias `Host` patterns are matched against). */
  readonly alias: string;
  /** The address to connect to (`HostName`, else the alias). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** `IdentityFile` entries in config order, `~` and `%d %u %h %r %p` expanded. */
  readonly identityFiles: readonly string[];
  /** Hosts to hop through, outermost first (`ProxyJump a,b`: connect to a, through it to b, then here). */
  readonly jumps: readonly SshTarget[];
}

/** One `Host` block: its patterns and its options (keys lower-cased, values in file order). */
export interface SshConfigBlock {
  readonly patterns: readonly string[];
  readonly options: ReadonlyMap<string, readonly string[]>;
}

/** Environment of the resolution; tests pass their own, real use takes the process's. */
export interface ResolveContext {
  /** Text of the ssh config file; default: `~/.ssh/config` when it exists. */
  readonly configText?: string;
  readonly home?: string;
  /** The local user name, the default remote user. */
  readonly localUser?: string;
}

/** Error in a host string or config line; the message says which one. */
export class SshConfigError extends Error {
  override readonly name = 'SshConfigError';
}

/**
 * Parses ssh config text into `Host` blocks. Lines before the first `Host` form a block that
 * matches every host. `Match` blocks are skipped whole: their conditions (exec, canonical...)
 * cannot be evaluated faithfully here, and applying them unconditionally would be wrong.
 */
export function parseSshConfig(text: string): SshConfigBlock[] {
  const blocks: { patterns: string[]; options: Map<string, string[]> }[] = [{ patterns: ['*'], options: new Map() }];
  let skipping = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const args = splitArgs(m[2]!);
    if (key === 'host') {
      skipping = false;
      blocks.push({ patterns: args, options: new Map() });
      continue;
    }
    if (key === 'match') {
      skipping = true;
      continue;
    }
    if (skipping || args.length === 0) continue;
    const options = blocks[blocks.length - 1]!.options;
    const list = options.get(key) ?? [];
    // IdentityFile accumulates; for every other keyword the first value obtained wins (ssh_config(5)).
    list.push(key === 'identityfile' || key === 'proxyjump' ? args.join(' ') : args[0]!);
    options.set(key, list);
  }
  return blocks;
}

/** Splits an option's arguments on whitespace, honouring double quotes. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2]!);
  return out;
}

/** True when `name` matches an ssh pattern (`*` any run, `?` one character). */
export function matchesPattern(name: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/** True when a `Host` line's pattern list selects `name`: some positive pattern matches and no `!pattern` does. */
export function hostMatches(name: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchesPattern(name, p.slice(1))) return false;
    } else if (matchesPattern(name, p)) matched = true;
  }
  return matched;
}

/** A host string split up: `[user@]host[:port]`, the host possibly an IPv6 address in brackets. */
export interface HostSpec {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

/** Parses `user@host:port`, `host`, `[::1]:2222`; throws SshConfigError naming what is wrong. */
export function parseHostSpec(spec: string): HostSpec {
  if (typeof spec !== 'string' || spec.trim() === '' || /\s/.test(spec.trim())) {
    throw new SshConfigError(
      `host ${JSON.stringify(spec)} must be 'user@host:port', 'host' or an alias from ~/.ssh/config (no spaces)`,
    );
  }
  let rest = spec.trim();
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (user === '') throw new SshConfigError(`host ${JSON.stringify(spec)}: the user before @ is empty`);
  }
  let host = rest;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    [host, portText] = rest.split(':') as [string, string];
  }
  if (host === '') throw new SshConfigError(`host ${JSON.stringify(spec)}: the host name is empty`);
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
      throw new SshConfigError(
        `host ${JSON.stringify(spec)}: port ${JSON.stringify(portText)} must be an integer from 1 to 65535`,
      );
  }
  return { user, host, port };
}

/** The options that apply to `alias`: for each keyword, the values of the first block that sets it. */
export function optionsFor(alias: string, blocks: readonly SshConfigBlock[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  const identity: string[] = [];
  for (const b of blocks) {
    if (!hostMatches(alias, b.patterns)) continue;
    for (const [k, v] of b.options) {
      if (k === 'identityfile') identity.push(...v);
      else if (!out.has(k)) out.set(k, v);
    }
  }
  if (identity.length > 0) out.set('identityfile', identity);
  return out;
}

/** Expands a leading `~` and the `%` tokens OpenSSH allows in IdentityFile. */
export function expandPath(
  path: string,
  ctx: { home: string; localUser: string; host?: string; user?: string; port?: number },
): string {
  const tokens: Record<string, string> = {
    '%': '%',
    d: ctx.home,
    u: ctx.localUser,
    h: ctx.host ?? '',
    r: ctx.user ?? '',
    p: String(ctx.port ?? ''),
  };
  const p = path.replace(/%([%duhrp])/g, (_, t: string) => tokens[t]!);
  if (p === '~') return ctx.home;
  return p.startsWith('~/') ? join(ctx.home, p.slice(2)) : p;
}

/**
 * Resolves a host string against the ssh config. Values written in the string (user, port) beat
 * the config, as on the `ssh` command line. Jump hosts are resolved the same way, but their own
 * ProxyJump is not followed: chains are written as `ProxyJump a,b`, and this rules out loops.
 */
export function resolveTarget(spec: string, ctx: ResolveContext = {}): SshTarget {
  const home = ctx.home ?? homedir();
  const localUser = ctx.localUser ?? userInfo().username;
  const blocks = parseSshConfig(ctx.configText ?? readDefaultConfig(home));
  return resolveWith(spec, blocks, home, localUser, true);
}

function resolveWith(
  spec: string,
  blocks: readonly SshConfigBlock[],
  home: string,
  localUser: string,
  followJumps: boolean,
): SshTarget {
  const parsed = parseHostSpec(spec);
  const opts = optionsFor(parsed.host, blocks);
  const first = (k: string): string | undefined => opts.get(k)?.[0];
  const host = first('hostname')?.replace(/%h/g, parsed.host) ?? parsed.host;
  const user = parsed.user ?? first('user') ?? localUser;
  const portText = first('port');
  let port = parsed.port ?? 22;
  if (parsed.port === undefined && portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new SshConfigError(
        `ssh config: Port ${JSON.stringify(portText)} for host ${parsed.host} must be an integer from 1 to 65535`,
      );
  }
  const identityFiles = (opts.get('identityfile') ?? [])
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandPath(f, { home, localUser, host, user, port }));
  const jumpText = first('proxyjump');
  const jumps =
    followJumps && jumpText && jumpText.toLowerCase() !== 'none'
      ? jumpText.split(',').map((j) => resolveWith(j.trim().replace(/^ssh:\/\//, ''), blocks, home, localUser, false))
      : [];
  return { alias: spec, host, port, user, identityFiles, jumps };
}

function readDefaultConfig(home: string): string {
  try {
    return readFileSync(join(home, '.ssh', 'config'), 'utf8');
  } catch {
    return '';
  }
}

/** `host:port` for messages (`[::1]:22` for IPv6). */
export function describeAddress(t: { host: string; port: number }): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}
