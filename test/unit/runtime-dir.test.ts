/** Private runtime folders: where they are, what is refused, process folders and the sweep of dead ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { UnsafeRuntimeDirError } from '../../orchestrator/core/errors.ts';
import {
  dataRoot,
  ensurePrivateDir,
  fileSafeName,
  ProcessDir,
  runtimeRoot,
  socketFileName,
  sweepDeadProcessDirs,
  writePrivateFile,
} from '../../orchestrator/core/runtime-dir.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'orrery-runtime-dir-'));
const mode = (p: string) => lstatSync(p).mode & 0o777;
const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
const OTHER_UID = 65534;

/** A pid that is not running (a child that already exited). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

test('the data root is $ORRERY_HOME/run (~/.orrery/run); sockets use $XDG_RUNTIME_DIR/orrery only when it is ours and private', () => {
  const base = scratch();
  assert.equal(dataRoot({ ORRERY_HOME: join(base, 'home') }), join(base, 'home', 'run'));
  assert.equal(dataRoot({}).endsWith('/.orrery/run'), true);
  const xdg = join(base, 'xdg');
  mkdirSync(xdg, { mode: 0o700 });
  chmodSync(xdg, 0o700);
  assert.equal(runtimeRoot({ ORRERY_HOME: base, XDG_RUNTIME_DIR: xdg }), join(xdg, 'orrery'));
  chmodSync(xdg, 0o755);
  assert.equal(
    runtimeRoot({ ORRERY_HOME: base, XDG_RUNTIME_DIR: xdg }),
    join(base, 'run'),
    'an open XDG_RUNTIME_DIR is not used',
  );
  assert.equal(runtimeRoot({ ORRERY_HOME: base, XDG_RUNTIME_DIR: join(base, 'missing') }), join(base, 'run'));
  assert.equal(runtimeRoot({ ORRERY_HOME: base, XDG_RUNTIME_DIR: 'relative/dir' }), join(base, 'run'));
  assert.equal(runtimeRoot({ ORRERY_HOME: base }), join(base, 'run'));
});

test('ensurePrivateDir makes folders 0700 whatever the umask, and keeps a private one as it is', () => {
  const base = scratch();
  const old = process.umask(0);
  try {
    const dir = ensurePrivateDir(join(base, 'a', 'b'));
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(base, 'a')), 0o700, 'missing parents are private too');
    writeFileSync(join(dir, 'kept'), 'x');
    assert.equal(ensurePrivateDir(dir), dir);
    assert.equal(existsSync(join(dir, 'kept')), true);
  } finally {
    process.umask(old);
  }
});

test("ensurePrivateDir refuses a folder open to others, a symbolic link, a file and another user's folder, naming the path and what to do", () => {
  const base = scratch();
  const open = join(base, 'open');
  mkdirSync(open);
  chmodSync(open, 0o755);
  assert.throws(
    () => ensurePrivateDir(open),
    (e: Error) =>
      e instanceof UnsafeRuntimeDirError &&
      e.message.includes(open) &&
      /open to group or others \(mode 0755\)/.test(e.message) &&
      /chmod 700/.test(e.message),
  );
  assert.equal(mode(open), 0o755, "an existing folder is never changed behind the user's back");
  const target = join(base, 'target');
  mkdirSync(target, { mode: 0o700 });
  const link = join(base, 'link');
  symlinkSync(target, link);
  assert.throws(
    () => ensurePrivateDir(link),
    (e: Error) => e instanceof UnsafeRuntimeDirError && e.message.startsWith(`${link} is a symbolic link`),
  );
  const file = join(base, 'file');
  writeFileSync(file, '');
  assert.throws(
    () => ensurePrivateDir(file),
    (e: Error) => e instanceof UnsafeRuntimeDirError && e.message.startsWith(`${file} is not a folder`),
  );
  const theirs = join(base, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, OTHER_UID, OTHER_UID);
  assert.throws(
    () => ensurePrivateDir(theirs),
    (e: Error) =>
      e instanceof UnsafeRuntimeDirError &&
      e.message.includes(`belongs to another user (uid ${OTHER_UID})`) &&
      e.message.includes('ORRERY_HOME'),
  );
});

test('writePrivateFile creates the file exclusively with mode 0600 and never writes through a link left in its place', () => {
  const base = ensurePrivateDir(join(scratch(), 'run'));
  const victim = join(scratch(), 'victim');
  writeFileSync(victim, 'precious');
  const path = join(base, 'agent.secret');
  symlinkSync(victim, path);
  const old = process.umask(0);
  try {
    writePrivateFile(path, 'new');
  } finally {
    process.umask(old);
  }
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.equal(lstatSync(path).isFile(), true);
  assert.equal(mode(path), 0o600);
  assert.equal(readFileSync(path, 'utf8'), 'new');
});

test('a process folder is made with mkdtemp (0700) under the data root; sockets get their own folder in a separate runtime root; remove takes both', () => {
  const base = scratch();
  const roots = { data: join(base, 'run'), runtime: join(base, 'xdg', 'orrery') };
  const dir = ProcessDir.create('head', roots);
  assert.match(
    dir.path,
    new RegExp(`^${roots.data}/head-${host.replace(/\./g, '\\.')}-${process.pid}-[A-Za-z0-9]{6}$`),
  );
  assert.equal(mode(dir.path), 0o700);
  assert.equal(mode(roots.data), 0o700);
  const sock = dir.socketPath('workers.sock');
  assert.ok(sock.startsWith(`${roots.runtime}/head-`), sock);
  assert.equal(mode(join(sock, '..')), 0o700);
  const spill = dir.subdir('spill');
  assert.equal(mode(spill), 0o700);
  dir.remove();
  assert.deepEqual(readdirSync(roots.data), []);
  assert.deepEqual(readdirSync(roots.runtime), []);
  const same = ProcessDir.create('agent', { data: roots.data, runtime: roots.data });
  assert.equal(join(same.socketPath('a.sock'), '..'), same.path, 'one folder when both roots are the same');
  same.remove();
});

test("the sweep removes this host's folders of dead processes, and keeps live ones, other hosts', links, and other users'", async () => {
  const root = ensurePrivateDir(join(scratch(), 'run'));
  const dead = await deadPid();
  const victim = join(scratch(), 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'spill-file'), 'precious');
  const names = {
    dead: `agent-${host}-${dead}-abc123`,
    live: `head-${host}-${process.ppid}-abc123`,
    otherHost: `agent-another-host-${dead}-abc123`,
    link: `agent-${host}-${dead}-link12`,
    theirs: `head-${host}-${dead}-their1`,
  };
  for (const n of [names.dead, names.live, names.otherHost, names.theirs]) {
    mkdirSync(join(root, n, 'spill'), { recursive: true });
    writeFileSync(join(root, n, 'spill', 'spill-file'), 'x');
  }
  chownSync(join(root, names.theirs), OTHER_UID, OTHER_UID);
  symlinkSync(victim, join(root, names.link));
  sweepDeadProcessDirs(root);
  assert.equal(existsSync(join(root, names.dead)), false, "a dead process's folder goes");
  assert.equal(existsSync(join(root, names.live, 'spill', 'spill-file')), true, "a live process's folder stays");
  assert.equal(
    existsSync(join(root, names.otherHost, 'spill', 'spill-file')),
    true,
    'pids of another host mean nothing here',
  );
  assert.equal(
    existsSync(join(root, names.theirs, 'spill', 'spill-file')),
    true,
    "another user's folder is theirs to remove",
  );
  assert.equal(readFileSync(join(victim, 'spill-file'), 'utf8'), 'precious', 'a link is never followed');
  assert.equal(lstatSync(join(root, names.link)).isSymbolicLink(), true);
});

test("a new process folder sweeps first: a killed agent's folder is gone once another process starts", async () => {
  const root = join(scratch(), 'run');
  const dead = await deadPid();
  mkdirSync(join(root, `agent-${host}-${dead}-zzzzzz`, 'spill'), { recursive: true, mode: 0o700 });
  chmodSync(root, 0o700);
  const dir = ProcessDir.create('agent', { data: root, runtime: root });
  assert.deepEqual(readdirSync(root), [dir.path.slice(root.length + 1)]);
  dir.remove();
});

test('fileSafeName keeps plain names and encodes everything else, so distinct names stay distinct', () => {
  assert.equal(fileSafeName('local-0'), 'local-0');
  assert.equal(fileSafeName('x;touch /tmp/pwned'), 'x%3Btouch%20%2Ftmp%2Fpwned');
  assert.equal(fileSafeName(`a'b"c$(d)\`e\``), 'a%27b%22c%24%28d%29%60e%60');
  assert.notEqual(fileSafeName('a;b'), fileSafeName('a_b'));
  assert.notEqual(fileSafeName('a%3Bb'), fileSafeName('a;b'));
  assert.equal(fileSafeName('../../etc'), '..%2F..%2Fetc');
  assert.equal(fileSafeName('é'), '%C3%A9');
});

test('long names are shortened with a digest of the whole name, so socket paths stay short and distinct', () => {
  const long = `${'../'.repeat(20)}tmp/evil`;
  const a = socketFileName(long);
  const b = socketFileName(`${long}2`);
  assert.ok(a.length <= 53 && b.length <= 53, a);
  assert.match(a, /^[A-Za-z0-9._%-]+~[0-9a-f]{12}\.sock$/);
  assert.notEqual(a, b);
  assert.equal(socketFileName('local-0'), 'local-0.sock');
  assert.equal(fileSafeName('abc', 3), 'abc');
});
