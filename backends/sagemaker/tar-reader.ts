/**
 * Reads the gzipped tar archives SageMaker makes of /opt/ml/model (model.tar.gz) and
 * /opt/ml/output/data (output.tar.gz). Regular files only; directories, links and devices are
 * skipped. Handles ustar (name + prefix), GNU long names (`L` entries) and pax `path` records.
 * https://www.gnu.org/software/tar/manual/html_node/Standard.html
 */
import { gunzipSync } from 'node:zlib';

/** The archive is not a tar the reader understands (truncated, bad checksum). */
export class TarFormatError extends Error {
  constructor(
    readonly archive: string,
    detail: string,
  ) {
    super(`${archive} is not a readable tar archive: ${detail}`);
    this.name = 'TarFormatError';
  }
}

const BLOCK = 512;

/** Unpacks a `.tar.gz` (or a plain `.tar`) into relative path -> bytes; `./` prefixes are dropped. */
export function readTarGz(data: Uint8Array, archive = 'archive'): Map<string, Uint8Array> {
  const tar = data[0] === 0x1f && data[1] === 0x8b ? new Uint8Array(gunzipSync(data)) : data;
  return readTar(tar, archive);
}

/** Unpacks an uncompressed tar. */
export function readTar(tar: Uint8Array, archive = 'archive'): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let at = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (checksum(header) !== octal(header, 148, 8))
      throw new TarFormatError(archive, `bad header checksum at byte ${at}`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    const start = at + BLOCK;
    if (start + size > tar.length)
      throw new TarFormatError(archive, `entry at byte ${at} runs past the end (truncated download?)`);
    const body = tar.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = text(body, 0, body.length);
      continue;
    }
    if (type === 'x') {
      paxPath = paxRecords(body).get('path') ?? paxPath;
      continue;
    }
    if (type === 'g') continue;
    const magic = text(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(header, 345, 155) : '';
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = undefined;
    paxPath = undefined;
    if (type !== '0' && type !== '\0' && type !== '7') continue;
    const rel = normalize(name);
    if (rel) files.set(rel, new Uint8Array(body));
  }
  return files;
}

/** `./a/b` -> `a/b`; rejects paths that climb out (`../x`, `/etc/x`) by dropping them. */
function normalize(name: string): string | undefined {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return undefined;
    parts.push(p);
  }
  return parts.length > 0 && !name.startsWith('/') ? parts.join('/') : undefined;
}

function text(b: Uint8Array, offset: number, length: number): string {
  const slice = b.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end < 0 ? slice : slice.subarray(0, end));
}

/** Numeric header fields are octal text, or base-256 when the top bit of the first byte is set. */
function octal(b: Uint8Array, offset: number, length: number): number {
  if ((b[offset]! & 0x80) !== 0) {
    let v = b[offset]! & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + b[offset + i]!;
    return v;
  }
  const s = text(b, offset, length).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** The sum of the header's bytes with the checksum field counted as spaces. */
function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum;
}

/** Pax extended header records: `<len> <key>=<value>\n`, where len counts bytes of the whole record. */
function paxRecords(body: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const len = parseInt(new TextDecoder().decode(body.subarray(at, space)), 10);
    if (!(len > 0) || at + len > body.length) break;
    const kv = new TextDecoder().decode(body.subarray(space + 1, at + len - 1));
    const eq = kv.indexOf('=');
    if (eq > 0) out.set(kv.slice(0, eq), kv.slice(eq + 1));
    at += len;
  }
  return out;
}
