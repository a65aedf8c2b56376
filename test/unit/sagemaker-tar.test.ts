/**
 * The tar reader against archives made by the system's GNU tar (ustar, gnu and pax formats,
 * long names, nested directories, empty files), compared with the files that went in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readTar, readTarGz, TarFormatError } from '../../backends/sagemaker/tar-reader.ts';

const LONG = `${'deep/'.repeat(30)}name-longer-than-one-hundred-characters.bin`;
const FILES: Record<string, Uint8Array> = {
  'weights.bin': Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251),
  'sub/dir/notes.txt': new TextEncoder().encode('héllo wörld\n'),
  'empty.txt': new Uint8Array(0),
  [LONG]: new TextEncoder().encode('long'),
  'exactly-512.dat': new Uint8Array(512).fill(9),
};

function makeTar(format: string, gzip: boolean): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
  try {
    for (const [rel, data] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), data);
    }
    const r = spawnSync('tar', [`--format=${format}`, gzip ? '-czf' : '-cf', '-', '-C', dir, '.'], {
      maxBuffer: 1 << 28,
    });
    assert.equal(r.status, 0, r.stderr.toString());
    return new Uint8Array(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const format of ['gnu', 'pax', 'ustar'] as const) {
  test(`reads a ${format} archive made by GNU tar, gzipped and not`, () => {
    const files = format === 'ustar' ? Object.fromEntries(Object.entries(FILES).filter(([k]) => k !== LONG)) : FILES;
    for (const gzip of [true, false]) {
      const dir = mkdtempSync(join(tmpdir(), 'tar-src-'));
      try {
        for (const [rel, data] of Object.entries(files)) {
          mkdirSync(dirname(join(dir, rel)), { recursive: true });
          writeFileSync(join(dir, rel), data);
        }
        const r = spawnSync('tar', [`--format=${format}`, gzip ? '-czf' : '-cf', '-', '-C', dir, '.'], {
          maxBuffer: 1 << 28,
        });
        assert.equal(r.status, 0, r.stderr.toString());
        const got = readTarGz(new Uint8Array(r.stdout));
        assert.deepEqual([...got.keys()].sort(), Object.keys(files).sort());
        for (const [rel, data] of Object.entries(files)) assert.deepEqual(got.get(rel), data, rel);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}

test('an empty archive (nothing written to /opt/ml/model) reads as no files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-empty-'));
  try {
    const r = spawnSync('tar', ['-czf', '-', '-C', dir, '.']);
    assert.equal(readTarGz(new Uint8Array(r.stdout)).size, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupted header and a truncated archive are errors that name the archive', () => {
  const tar = makeTar('gnu', false);
  const first = readTar(tar);
  assert.ok(first.size > 0);
  const corruptHeader = tar.slice();
  corruptHeader[10] = corruptHeader[10]! ^ 0x55;
  assert.throws(
    () => readTar(corruptHeader, 'model.tar.gz'),
    (e: unknown) => e instanceof TarFormatError && /model\.tar\.gz.*checksum/.test(e.message),
  );
  const weights = 512 + 70_000;
  assert.throws(() => readTarGz(gzipSync(tar.subarray(0, weights + 1024)), 'x.tar.gz'), TarFormatError);
});

/** One hand-made ustar entry holding bytes 1,2,3,4 under `name`, plus the end-of-archive blocks. */
function oneEntry(name: string): Uint8Array {
  const header = new Uint8Array(512);
  const put = (s: string, at: number) => header.set(new TextEncoder().encode(s), at);
  put(name, 0);
  put('0000644\0', 100);
  put('00000000004\0', 124);
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = new Uint8Array(512);
  body.set([1, 2, 3, 4]);
  return new Uint8Array([...header, ...body, ...new Uint8Array(1024)]);
}

test('entries climbing out of the tree are dropped; the same entry with a plain name is kept', () => {
  assert.deepEqual([...readTar(oneEntry('./good/x')).entries()], [['good/x', Uint8Array.from([1, 2, 3, 4])]]);
  assert.equal(readTar(oneEntry('../evil')).size, 0);
  assert.equal(readTar(oneEntry('/etc/evil')).size, 0);
});
