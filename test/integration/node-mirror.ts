/**
 * A Node distribution mirror for the provisioning tests: the "distribution" is built from this
 * machine's own node binary in the official layout (`node-v<version>-<os>-<arch>/bin/node`, a real
 * SHASUMS256.txt) and served over HTTP at `/dist/v<version>/...` (good) and `/bad/v<version>/...`
 * (a SHASUMS256.txt with a wrong digest), so `nodeDist: { url: mirror.url + '/dist' }` works offline.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';

export const NODE_VERSION = process.version.slice(1);
export const NODE_PLATFORM = `${process.platform}-${process.arch}`;
export const NODE_TARBALL = `node-v${NODE_VERSION}-${NODE_PLATFORM}.tar.gz`;

export interface NodeMirror {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests so far by path. */
  readonly requests: Map<string, number>;
  /** The served files by path. */
  readonly files: Map<string, Buffer>;
  readonly tarballBytes: number;
  close(): void;
}

export async function startNodeMirror(): Promise<NodeMirror> {
  const dir = tempDir('node-dist');
  const top = `node-v${NODE_VERSION}-${NODE_PLATFORM}`;
  mkdirSync(join(dir, top, 'bin'), { recursive: true });
  copyFileSync(process.execPath, join(dir, top, 'bin', 'node'));
  writeFileSync(join(dir, top, 'README.md'), 'A Node distribution built by the test from its own node binary.\n');
  execFileSync('tar', ['-czf', NODE_TARBALL, top], { cwd: dir });
  const tarball = readFileSync(join(dir, NODE_TARBALL));
  const sha = createHash('sha256').update(tarball).digest('hex');
  const files = new Map<string, Buffer>([
    [`/dist/v${NODE_VERSION}/${NODE_TARBALL}`, tarball],
    [
      `/dist/v${NODE_VERSION}/SHASUMS256.txt`,
      Buffer.from(`${'0'.repeat(64)}  node-v${NODE_VERSION}-win-x64.zip\n${sha}  ${NODE_TARBALL}\n`),
    ],
    [`/bad/v${NODE_VERSION}/${NODE_TARBALL}`, tarball],
    [`/bad/v${NODE_VERSION}/SHASUMS256.txt`, Buffer.from(`${'e'.repeat(64)}  ${NODE_TARBALL}\n`)],
  ]);
  const requests = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const body = files.get(path);
    if (!body) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    files,
    tarballBytes: tarball.length,
    close: () => server.close(),
  };
}
