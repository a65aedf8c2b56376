/**
 * What shipping a working directory (`runtimeEnv.workingDir`) costs on the ssh backend (the
 * loopback sshd of test/services): a project of N source files totalling S bytes, first run
 * (pack + put + fetch over ssh + unpack on the node) and second run (same content: the node
 * has the folder, nothing is fetched), each against a task without a working directory.
 *
 *   node --import tsx bench/working-dir-bench.ts [--files 200] [--mib 5] [--incompressible]
 *   (it then runs itself again as a new process on the same project, the "second run" of a new driver)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get, init, remote, shutdown, state } from 'orrery-compute';
import { Head } from '../orchestrator/head/head.ts';
import { createBackend } from '../orchestrator/head/backend-registry.ts';
import { listWorkingDir, packWorkingDir } from '../orchestrator/core/working-dir-pack.ts';
import { sshService } from '../test/services/env.ts';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const files = Number(arg('files', '200'));
const mib = Number(arg('mib', '5'));
const given = arg('dir', '');
/** Random text instead of code: compresses little, the worst case for the transfer. */
const incompressible = process.argv.includes('--incompressible');

/** Source-like text: lines of code with varying identifiers and numbers (compresses like code does, ~4x). */
function sourceText(bytes: number, seed: number): string {
  if (incompressible) return randomBytes(bytes).toString('base64').slice(0, bytes);
  const lines: string[] = [];
  let n = 0;
  let x = seed;
  while (n < bytes) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const line = `export function f${x % 9973}_${seed}(a${x % 7}, b) { return a${x % 7} * ${x % 100003} + b.v${x % 13}; }\n`;
    lines.push(line);
    n += line.length;
  }
  return lines.join('').slice(0, bytes);
}

function makeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-wd-bench-'));
  const each = Math.floor((mib * 1024 * 1024) / files);
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `pkg${i % 10}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `mod${i}.js`), sourceText(each, i + Date.now()));
  }
  return dir;
}

const dir = given || makeProject();
const tPack = performance.now();
const packed = packWorkingDir(dir, listWorkingDir(dir));
const packMs = performance.now() - tPack;

const head = new Head({ log: () => {} });
await head.addBackend(
  await createBackend({
    kind: 'ssh',
    name: 'ssh',
    hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
    identityFile: sshService.keyPath,
    knownHostsFile: sshService.knownHostsPath,
  }),
);
await init({ cluster: { head }, logToDriver: false });

const plain = remote({ backend: 'ssh' }, async () => process.cwd());
const shipped = remote({ backend: 'ssh', runtimeEnv: { workingDir: dir } }, async () => process.cwd());
const time = async (f: typeof plain) => {
  const t0 = performance.now();
  const ref = f.remote();
  await get(ref);
  const ms = performance.now() - t0;
  const [row] = await state.listTasks({ filters: [['taskId', '=', ref.id]] });
  return { ms, info: row!.info };
};

await time(plain); // the agent and a worker are up
const base = await time(plain);
const run1 = await time(shipped);
const run2 = await time(shipped);
await shutdown();
await head.shutdown();

const out = {
  phase: given ? 'new driver, same content' : 'first driver',
  files,
  sourceBytes: packed.bytes,
  archiveBytes: packed.archive.byteLength,
  packMs: Math.round(packMs),
  plainTaskMs: Math.round(base.ms),
  firstTaskMs: Math.round(run1.ms),
  firstFetchedBytes: run1.info.workingDirFetchedBytes,
  firstNodeMs: run1.info.workingDirMs,
  secondTaskMs: Math.round(run2.ms),
  secondFetchedBytes: run2.info.workingDirFetchedBytes,
};
console.log(JSON.stringify(out));

if (!given) {
  execFileSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--dir', dir, '--files', String(files), '--mib', String(mib)],
    {
      stdio: 'inherit',
    },
  );
  rmSync(dir, { recursive: true, force: true });
}
