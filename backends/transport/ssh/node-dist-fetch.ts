/**
 * Getting a Node distribution tarball onto this machine, verified, once: from nodejs.org (or a
 * mirror of it, `nodeDist: { url }`) into the private cache `~/.orrery/cache/node/` (0700, files
 * 0600), checked against the release's `SHASUMS256.txt`; or a tarball already here
 * (`nodeDist: { file }`), checked against a `SHASUMS256.txt` beside it when there is one. Only
 * Node's own `fetch` and `crypto` are used: no `curl`, `xz` or second Node is needed here.
 * A cached tarball keeps its verified digest beside it and is re-hashed before each use, so a
 * later run needs no network.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { ensurePrivateDir, orreryHome } from '../../../orchestrator/core/runtime-dir.ts';
import { expandHome } from './login.ts';
import {
  DEFAULT_DIST_URL,
  parseShasums,
  parseTarballName,
  platformName,
  tarballName,
  type DistPlatform,
  type NodeDist,
  type NodeVersion,
  type TarballCompression,
} from './node-dist.ts';

/** A verified tarball on this machine. */
export interface LocalTarball {
  readonly path: string;
  /** `node-v20.20.2-linux-x64.tar.gz`. */
  readonly name: string;
  readonly version: NodeVersion;
  readonly compression: TarballCompression;
  readonly sha256: string;
  readonly bytes: number;
  /** Seconds spent downloading it in this call (0 when it came from the cache or a file). */
  readonly downloadS: number;
  /** Where it came from, for messages: a URL, `cache`, or a file path. */
  readonly source: string;
}

/** What to get, and for whom (messages name the backend and the host). */
export interface TarballRequest {
  readonly backend: string;
  /** `user@host:port` of the host it is for. */
  readonly where: string;
  readonly version: NodeVersion;
  readonly platform: DistPlatform;
  readonly dist: NodeDist | undefined;
  readonly log: (line: string) => void;
  /** Default `$ORRERY_HOME/cache/node` (`~/.orrery/cache/node`). */
  readonly cacheDir?: string;
}

/** The laptop's cache of Node tarballs. */
export function nodeCacheDir(): string {
  return join(orreryHome(), 'cache', 'node');
}

/** One line about this machine's tarball cache, for `orrery backends test`. */
export function describeLocalCache(dir: string = nodeCacheDir()): string {
  const tarballs = existsSync(dir) ? readdirSync(dir).filter((f) => parseTarballName(f)) : [];
  const bytes = tarballs.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  return `Node tarball cache on this machine: ${dir}, ${tarballs.length} tarball(s), ${(bytes / 1e6).toFixed(1)} MB${tarballs.length ? ` (${tarballs.join(', ')})` : ''}`;
}

/** Downloads in progress in this process, so that backends starting together download once. */
const inFlight = new Map<string, Promise<LocalTarball>>();

/** A verified tarball for `req` (downloaded at most once per cache). */
export function localNodeTarball(req: TarballRequest): Promise<LocalTarball> {
  if (req.dist && 'file' in req.dist) return fromFile(req, req.dist.file);
  const base = `${(req.dist?.url ?? DEFAULT_DIST_URL).replace(/\/+$/, '')}/v${req.version}/`;
  const cacheDir = req.cacheDir ?? nodeCacheDir();
  const key = `${cacheDir}\0${base}\0${platformName(req.platform)}`;
  let p = inFlight.get(key);
  if (!p) {
    p = fromMirror(req, base, cacheDir).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function fromMirror(req: TarballRequest, base: string, cacheDir: string): Promise<LocalTarball> {
  ensurePrivateDir(cacheDir);
  sweepStaleDownloads(cacheDir);
  for (const compression of ['gz', 'xz'] as const) {
    const name = tarballName(req.version, req.platform, compression);
    const cached = await cachedTarball(cacheDir, name);
    if (cached) return { ...cached, version: req.version, compression, downloadS: 0, source: 'cache' };
  }
  const sumsUrl = `${base}SHASUMS256.txt`;
  const sums = parseShasums((await download(req, sumsUrl)).toString('utf8'));
  // gzip first: every host has gzip, while `tar -xJ` needs xz, which minimal images lack.
  const compression = (['gz', 'xz'] as const).find((c) => sums.has(tarballName(req.version, req.platform, c)));
  if (!compression)
    throw new BackendError(
      req.backend,
      `${sumsUrl} lists no tarball for ${platformName(req.platform)} (needed for ${req.where}); set nodeDist: { file } to a Node >= 20 tarball for that host, or node to the path of a Node >= 20 there`,
      false,
    );
  const name = tarballName(req.version, req.platform, compression);
  const expected = sums.get(name)!;
  const url = `${base}${name}`;
  const started = Date.now();
  const tmp = join(cacheDir, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    const { sha256, bytes } = await downloadTo(req, url, tmp);
    if (sha256 !== expected)
      throw new BackendError(
        req.backend,
        `the Node tarball ${url} has sha256 ${sha256}, but ${sumsUrl} says ${expected}: it was discarded and nothing was installed on ${req.where}. The download or the mirror is corrupt; retry, or point nodeDist at a good mirror or a verified file`,
        false,
      );
    const path = join(cacheDir, name);
    await writeFile(`${path}.sha256`, `${sha256}  ${name}\n`, { mode: 0o600 });
    await rename(tmp, path);
    const downloadS = (Date.now() - started) / 1000;
    req.log(
      `downloaded ${url} (${(bytes / 1e6).toFixed(1)} MB in ${downloadS.toFixed(1)} s), sha256 matches SHASUMS256.txt; cached in ${cacheDir}`,
    );
    return { path, name, version: req.version, compression, sha256, bytes, downloadS, source: url };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Removes partial downloads a killed process left (a day old: a live download is never that slow). */
function sweepStaleDownloads(dir: string): void {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('.tmp-')) continue;
    const path = join(dir, f);
    if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { force: true });
  }
}

/** A cached tarball whose bytes still hash to the digest recorded when it was verified. */
async function cachedTarball(
  dir: string,
  name: string,
): Promise<{ path: string; name: string; sha256: string; bytes: number } | undefined> {
  const path = join(dir, name);
  if (!existsSync(path) || !existsSync(`${path}.sha256`)) return undefined;
  const recorded = readFileSync(`${path}.sha256`, 'utf8').split(/\s/)[0];
  const sha256 = await sha256Of(path);
  if (sha256 !== recorded) {
    await rm(path, { force: true });
    return undefined;
  }
  return { path, name, sha256, bytes: statSync(path).size };
}

/** `nodeDist: { file }`: the tarball as it is, checked against a SHASUMS256.txt beside it when present. */
async function fromFile(req: TarballRequest, file: string): Promise<LocalTarball> {
  const path = resolve(expandHome(file));
  const name = basename(path);
  const parsed = parseTarballName(name)!;
  if (!existsSync(path))
    throw new BackendError(
      req.backend,
      `nodeDist.file ${path} does not exist on this machine (needed to provision Node on ${req.where})`,
      false,
    );
  const sha256 = await sha256Of(path);
  const sumsPath = join(dirname(path), 'SHASUMS256.txt');
  const expected = existsSync(sumsPath) ? parseShasums(readFileSync(sumsPath, 'utf8')).get(name) : undefined;
  if (expected && expected !== sha256)
    throw new BackendError(
      req.backend,
      `nodeDist.file ${path} has sha256 ${sha256}, but ${sumsPath} says ${expected}; nothing was installed on ${req.where}. Replace the file with a good copy`,
      false,
    );
  if (!expected)
    req.log(
      `nodeDist.file ${path}: no SHASUMS256.txt entry beside it to check against; its sha256 is ${sha256} (compare it with the release's SHASUMS256.txt)`,
    );
  const { version, compression } = parsed;
  return { path, name, version, compression, sha256, bytes: statSync(path).size, downloadS: 0, source: path };
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Why a request to the mirror failed, for the message: HTTP status, or the socket error's code. */
function unreachable(req: TarballRequest, url: string, why: string): BackendError {
  return new BackendError(
    req.backend,
    `cannot download Node for ${req.where} from ${url} (${why}); check this machine's network, set nodeDist: { url } to a reachable mirror of https://nodejs.org/dist, or nodeDist: { file } to a tarball on this machine`,
    true,
  );
}

async function get(req: TarballRequest, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(600_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw unreachable(req, url, cause?.code ?? cause?.message ?? (err as Error).message);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw unreachable(req, url, `HTTP ${res.status} ${res.statusText}`.trim());
  }
  return res;
}

async function download(req: TarballRequest, url: string): Promise<Buffer> {
  const res = await get(req, url);
  try {
    return Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw unreachable(req, url, (err as Error).message);
  }
}

/** Streams `url` into a new private file, hashing as it goes. */
async function downloadTo(req: TarballRequest, url: string, path: string): Promise<{ sha256: string; bytes: number }> {
  const res = await get(req, url);
  const h = createHash('sha256');
  let bytes = 0;
  const fh = await open(path, 'wx', 0o600);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      h.update(chunk);
      bytes += chunk.byteLength;
      await fh.write(chunk);
    }
  } catch (err) {
    throw unreachable(req, url, `the download broke off: ${(err as Error).message}`);
  } finally {
    await fh.close();
  }
  return { sha256: h.digest('hex'), bytes };
}
