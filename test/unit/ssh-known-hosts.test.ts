/** known_hosts checking with real keys made by ssh-keygen, compared with OpenSSH's own output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnownHosts, fingerprint, keyTypeOf, knownHostName } from '../../backends/transport/ssh/known-hosts.ts';

const dir = mkdtempSync(join(tmpdir(), 'orrery-known-hosts-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A fresh key pair; returns the public line's type, base64 and blob, and OpenSSH's fingerprint. */
function makeKey(name: string, type: 'ed25519' | 'ecdsa'): { line: string; blob: Buffer; sshKeygenFp: string } {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const [kt, b64] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ');
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(
    ' ',
  )[1]!;
  return { line: `${kt} ${b64}`, blob: Buffer.from(b64!, 'base64'), sshKeygenFp: fp };
}

const host = makeKey('host', 'ed25519');
const other = makeKey('other', 'ed25519');
const ecdsa = makeKey('ecdsa', 'ecdsa');

test('fingerprints match ssh-keygen -l; key types are read from the blob', () => {
  assert.equal(fingerprint(host.blob), host.sshKeygenFp);
  assert.equal(fingerprint(ecdsa.blob), ecdsa.sshKeygenFp);
  assert.match(fingerprint(host.blob), /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(keyTypeOf(host.blob), 'ssh-ed25519');
  assert.equal(keyTypeOf(ecdsa.blob), 'ecdsa-sha2-nistp256');
});

test('names: plain host on port 22, [host]:port otherwise', () => {
  assert.equal(knownHostName('gpu1', 22), 'gpu1');
  assert.equal(knownHostName('127.0.0.1', 2222), '[127.0.0.1]:2222');
});

test('plain entries: [host]:port, comma lists, wildcards, negation', () => {
  const kh = KnownHosts.fromText(
    [
      `# a comment`,
      ``,
      `[127.0.0.1]:2222 ${host.line}`,
      `gpu1,gpu2.lab,10.0.0.9 ${host.line}`,
      `*.farm,!bad.farm ${host.line}`,
    ].join('\n'),
    '/tmp/kh',
  );
  assert.deepEqual(kh.verify('127.0.0.1', 2222, host.blob), { ok: true });
  assert.deepEqual(kh.verify('gpu2.lab', 22, host.blob), { ok: true });
  assert.deepEqual(kh.verify('n7.farm', 22, host.blob), { ok: true });
  assert.equal(kh.verify('127.0.0.1', 22, host.blob).ok, false, 'port 22 is a different name than [127.0.0.1]:2222');
  assert.equal(kh.verify('bad.farm', 22, host.blob).ok, false);
});

test('hashed entries written by ssh-keygen -H are matched', () => {
  const file = join(dir, 'known_hosts_hashed');
  writeFileSync(file, `[127.0.0.1]:2222 ${host.line}\ngpu1 ${ecdsa.line}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\|1\|/m);
  assert.doesNotMatch(text, /127\.0\.0\.1/);
  const kh = KnownHosts.load(file);
  assert.deepEqual(kh.verify('127.0.0.1', 2222, host.blob), { ok: true });
  assert.deepEqual(kh.verify('gpu1', 22, ecdsa.blob), { ok: true });
  const v = kh.verify('127.0.0.1', 2222, other.blob);
  assert.equal(v.ok === false && v.reason, 'changed');
});

test('an unknown host is refused with the fingerprint and the ssh-keyscan command', () => {
  const kh = KnownHosts.fromText(`gpu1 ${host.line}\n`, join(process.env.HOME ?? '/root', '.ssh', 'known_hosts'));
  const v = kh.verify('127.0.0.1', 2222, host.blob);
  assert.equal(v.ok, false);
  if (v.ok) return;
  assert.equal(v.reason, 'unknown');
  assert.ok(v.message.includes(host.sshKeygenFp), v.message);
  assert.ok(v.message.includes('ssh-keyscan -p 2222 127.0.0.1 >> ~/.ssh/known_hosts'), v.message);
  assert.ok(v.message.includes('[127.0.0.1]:2222'), v.message);
});

test('a changed key is refused with both fingerprints and ssh-keygen -R', () => {
  const kh = KnownHosts.fromText(`[127.0.0.1]:2222 ${other.line}\n`, '/etc/orrery/kh');
  const v = kh.verify('127.0.0.1', 2222, host.blob);
  assert.equal(v.ok, false);
  if (v.ok) return;
  assert.equal(v.reason, 'changed');
  assert.ok(v.message.includes(host.sshKeygenFp) && v.message.includes(other.sshKeygenFp), v.message);
  assert.ok(v.message.includes(`ssh-keygen -R '[127.0.0.1]:2222' -f /etc/orrery/kh`), v.message);
  assert.match(v.message, /HOST KEY CHANGED/);
});

test('only a key of another type known: refused as unknown, saying which types are known', () => {
  const kh = KnownHosts.fromText(`gpu1 ${ecdsa.line}\n`, '/kh');
  const v = kh.verify('gpu1', 22, host.blob);
  assert.ok(
    !v.ok && v.reason === 'unknown' && v.message.includes('lists only ecdsa-sha2-nistp256 keys'),
    JSON.stringify(v),
  );
});

test('@cert-authority lines trust nothing; @revoked keys are refused even if listed', () => {
  const ca = KnownHosts.fromText(`@cert-authority *.lab ${host.line}\n`, '/kh');
  assert.equal(ca.verify('gpu1.lab', 22, host.blob).ok, false);
  const revoked = KnownHosts.fromText(`@revoked gpu1 ${host.line}\ngpu1 ${host.line}\n`, '/kh');
  const v = revoked.verify('gpu1', 22, host.blob);
  assert.ok(!v.ok && v.reason === 'revoked', JSON.stringify(v));
});

test('a missing file is empty (every host unknown); malformed lines are skipped', () => {
  const missing = KnownHosts.load(join(dir, 'absent'));
  assert.equal(missing.verify('h', 22, host.blob).ok, false);
  const kh = KnownHosts.fromText(`garbage\nhost-only ssh-ed25519\n|1|bad ${host.line}\nh ${host.line}\n`, '/kh');
  assert.deepEqual(kh.verify('h', 22, host.blob), { ok: true });
});
