/**
 * Which Node a host runs the agent with, and the pure facts about Node's official distribution:
 * the `node`, `nodeDist` (and legacy `nodePath`) config keys of the ssh and slurm backends, the
 * distribution name for a host's `uname -sm`, tarball names, and `SHASUMS256.txt`.
 * node-dist-fetch.ts gets a tarball on this machine; node-runtime.ts installs it on a host.
 */

/**
 * How a backend finds Node on its hosts:
 * - `'auto'`: the host's `node` when it is >= 20, otherwise a provisioned one (the default);
 * - `'system'`: the host's `node` only (a missing or old one is an error);
 * - `'bundled'`: always a provisioned one, in `~/.orrery/runtime/<version>-<os>-<arch>/`;
 * - an absolute path (`/opt/node/bin/node`, or `~/...`): that Node only.
 */
export type NodeSetting = 'auto' | 'system' | 'bundled' | (string & {});

/** Where provisioning gets the tarball: a mirror of https://nodejs.org/dist, or a tarball on this machine. */
export type NodeDist = { readonly url: string } | { readonly file: string };

/** The config keys about Node shared by the ssh and slurm backends. */
export interface NodeRuntimeConfig {
  readonly node?: NodeSetting;
  readonly nodeDist?: NodeDist;
  /** Older spelling of `node` with a path or command (`node20`, `/opt/node/bin/node`): never provisions. */
  readonly nodePath?: string;
}

/** The config keys above, for a backend's list of allowed keys. */
export const NODE_CONFIG_KEYS = ['node', 'nodeDist', 'nodePath'] as const;

/** The default mirror: the official releases, `<base>/v<version>/node-v<version>-<os>-<arch>.tar.gz`. */
export const DEFAULT_DIST_URL = 'https://nodejs.org/dist';

/** A Node distribution name: `linux-x64`, `darwin-arm64`, ... */
export interface DistPlatform {
  readonly os: 'linux' | 'darwin';
  readonly arch: string;
}

/** `uname -s` and `uname -m` values to Node's names (the platforms nodejs.org publishes tarballs for). */
const OS_NAMES: ReadonlyMap<string, DistPlatform['os']> = new Map([
  ['Linux', 'linux'],
  ['Darwin', 'darwin'],
]);
const ARCH_NAMES: ReadonlyMap<string, string> = new Map([
  ['x86_64', 'x64'],
  ['amd64', 'x64'],
  ['aarch64', 'arm64'],
  ['arm64', 'arm64'],
  ['armv7l', 'armv7l'],
  ['ppc64le', 'ppc64le'],
  ['s390x', 's390x'],
]);
/** Platforms with an official tarball (darwin only on x64 and arm64). */
const PUBLISHED = new Set([
  'linux-x64',
  'linux-arm64',
  'linux-armv7l',
  'linux-ppc64le',
  'linux-s390x',
  'darwin-x64',
  'darwin-arm64',
]);

/** The distribution for `uname -sm` output (`Linux x86_64` -> linux-x64); undefined when Node publishes none. */
export function distPlatformOf(uname: string): DistPlatform | undefined {
  const [sys, machine] = uname.trim().split(/\s+/);
  const os = OS_NAMES.get(sys ?? '');
  const arch = ARCH_NAMES.get(machine ?? '');
  if (!os || !arch || !PUBLISHED.has(`${os}-${arch}`)) return undefined;
  return { os, arch };
}

/** `linux-x64`. */
export function platformName(p: DistPlatform): string {
  return `${p.os}-${p.arch}`;
}

/** A release version without its `v`: `20.20.2`. */
export type NodeVersion = string;

const RELEASE = /^v?(\d+\.\d+\.\d+)$/;
/** A tarball of the official layout: `node-v20.20.2-linux-x64.tar.gz` (or `.tar.xz`; `-musl` builds of unofficial-builds.nodejs.org too). */
const TARBALL = /^node-v(\d+\.\d+\.\d+)-(linux|darwin)-([a-z0-9]+(?:-musl)?)\.tar\.(gz|xz)$/;

/** The tarball's compression: gzip needs only `tar` and `gzip` on the host; xz needs `xz` too. */
export type TarballCompression = 'gz' | 'xz';

/** What a tarball name says. */
export interface TarballName {
  readonly version: NodeVersion;
  readonly platform: DistPlatform;
  readonly compression: TarballCompression;
}

/** Parses `node-v<version>-<os>-<arch>.tar.<gz|xz>`; undefined for any other name. */
export function parseTarballName(name: string): TarballName | undefined {
  const m = TARBALL.exec(name);
  if (!m) return undefined;
  return {
    version: m[1]!,
    platform: { os: m[2] as DistPlatform['os'], arch: m[3]! },
    compression: m[4] as TarballCompression,
  };
}

/** `node-v<version>-<os>-<arch>.tar.<compression>`. */
export function tarballName(version: NodeVersion, platform: DistPlatform, compression: TarballCompression): string {
  return `node-v${version}-${platformName(platform)}.tar.${compression}`;
}

/** The runtime folder's name on a host: `<version>-<os>-<arch>` (under `~/.orrery/runtime/`). */
export function runtimeName(version: NodeVersion, platform: DistPlatform): string {
  return `${version}-${platformName(platform)}`;
}

/**
 * The Node version to provision: the one running this head. Head and agents then share one V8
 * (the protocol's headers are v8.serialize'd, and an older V8 cannot always read a newer one's
 * format), the same built-ins and the same TypeScript support; this machine has already shown that
 * Orrery runs on it; and nodejs.org keeps every release, so the tarball is always there. A build
 * that is not a plain release (a nightly, `v22.0.0-rc.1`) falls back to {@link PINNED_NODE_VERSION}.
 */
export function defaultNodeVersion(running: string = process.version): NodeVersion {
  return RELEASE.exec(running)?.[1] ?? PINNED_NODE_VERSION;
}

/** The LTS release used when this head's own Node is not a plain release. */
export const PINNED_NODE_VERSION: NodeVersion = '20.20.2';

/**
 * Parses `SHASUMS256.txt` (`<64 hex>  <file name>` per line, as `sha256sum` prints) into a map
 * from file name to lower-case digest; other lines are ignored.
 */
export function parseShasums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *]?(\S.*?)\s*$/.exec(line);
    if (m) sums.set(m[2]!.replace(/^\.\//, ''), m[1]!.toLowerCase());
  }
  return sums;
}

/**
 * Checks the Node keys of a backend config; `fail(field, allowed)` throws the backend's TypeError.
 * `node` and `nodePath` together are refused (one would silently win).
 */
export function checkNodeConfig(c: Record<string, unknown>, fail: (field: string, allowed: string) => never): void {
  const node = c.node;
  if (node !== undefined) {
    const ok =
      typeof node === 'string' &&
      (node === 'auto' || node === 'system' || node === 'bundled' || node.startsWith('/') || /^~\/./.test(node));
    if (!ok) fail('node', "'auto', 'system', 'bundled' or an absolute path to a node binary on the host");
  }
  if (c.nodePath !== undefined && (typeof c.nodePath !== 'string' || c.nodePath === ''))
    fail('nodePath', 'a non-empty string');
  if (node !== undefined && c.nodePath !== undefined)
    fail('nodePath', 'left out when node is set (nodePath is the older spelling of node with a path)');
  const dist = c.nodeDist;
  if (dist === undefined) return;
  const d = dist as Record<string, unknown>;
  const keys = typeof dist === 'object' && dist !== null && !Array.isArray(dist) ? Object.keys(d) : [];
  if (
    keys.length !== 1 ||
    !(keys[0] === 'url' || keys[0] === 'file') ||
    typeof d[keys[0]] !== 'string' ||
    d[keys[0]] === ''
  )
    fail('nodeDist', "{ url: 'https://mirror/nodejs/dist' } or { file: '/path/node-v20.x.y-linux-x64.tar.gz' }");
  if (typeof d.url === 'string' && !/^https?:\/\/[^/]/.test(d.url))
    fail('nodeDist', 'a url starting with https:// (or http://), the base that holds v<version>/SHASUMS256.txt');
  if (typeof d.file === 'string' && !parseTarballName(d.file.split('/').pop()!))
    fail('nodeDist', 'a file named like the official tarballs, node-v<version>-<os>-<arch>.tar.gz or .tar.xz');
  if (c.node === 'system' || c.nodePath !== undefined || (typeof c.node === 'string' && /^[/~]/.test(c.node)))
    fail('nodeDist', "left out unless node is 'auto' or 'bundled' (it says where a provisioned Node comes from)");
}

/** What a backend does about Node on a host, from its config. */
export type NodeChoice =
  | { readonly mode: 'auto' | 'bundled'; readonly dist: NodeDist | undefined }
  /** The host's own: `node` from the PATH (`'system'`), a configured path, or a `nodePath` command. */
  | { readonly mode: 'fixed'; readonly path: string };

/** The effective choice: `node`, else `nodePath` (a path or command, never provisioned), else `'auto'`. */
export function nodeChoiceOf(c: NodeRuntimeConfig): NodeChoice {
  if (c.nodePath !== undefined) return { mode: 'fixed', path: c.nodePath };
  const node: string = c.node ?? 'auto';
  if (node === 'auto' || node === 'bundled') return { mode: node, dist: c.nodeDist };
  return { mode: 'fixed', path: node === 'system' ? 'node' : node };
}
