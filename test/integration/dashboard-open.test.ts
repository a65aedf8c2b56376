/**
 * `orrery dashboard` opening a browser on a shared machine (issue 13, finding 1). The browser is
 * a stand-in `xdg-open` first on PATH that records its arguments and, like a browser, opens what
 * it was given (a login page file: it follows the page to the login URL, keeps the cookie and
 * calls the API with it), then stays running for a while, as a browser does. Meanwhile the
 * other local user (orrery-intruder) polls `ps -eo args`: it must read neither the token nor a
 * usable code or URL, cannot open the path it does see, and whatever it saw gets 401.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asIntruder, intruderUser, requireIntruder } from '../services/env.ts';
import { tempDir, until } from './helpers.ts';

const MAIN = 'orchestrator/cli/main.ts';

/** The stand-in browser: records argv, opens the login page it was given, logs in, calls the API, lingers 4 s. */
const OPENER = `#!${process.execPath}
const fs = require('node:fs');
const entry = { argv: process.argv.slice(2) };
(async () => {
  try {
    const html = fs.readFileSync(process.argv[2], 'utf8');
    const url = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(html)[1].replace(/&amp;/g, '&');
    const login = await fetch(url, { redirect: 'manual' });
    entry.login = login.status;
    entry.location = login.headers.get('location');
    const cookie = (login.headers.get('set-cookie') || '').split(';')[0];
    entry.api = (await fetch(new URL(url).origin + '/api/status', { headers: { Cookie: cookie } })).status;
  } catch (err) {
    entry.error = String(err);
  }
  fs.appendFileSync(process.env.OPENER_LOG, JSON.stringify(entry) + '\\n');
  setTimeout(() => {}, 4000);
})();
`;

/**
 * The other user's poller: every 50 ms `ps -eo args`; when its stdin closes it prints, as JSON, the
 * lines of its first look (processes that were already running, such as a CI harness whose own
 * script may say "token=") and every distinct line it saw after.
 */
const POLLER = `
const { execFileSync } = require('node:child_process');
const look = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\\n');
const before = new Set(look());
const seen = new Set();
const poll = setInterval(() => { for (const l of look()) seen.add(l); }, 50);
process.stdin.on('end', () => { clearInterval(poll); process.stdout.write(JSON.stringify({ before: [...before], seen: [...seen] })); process.exit(0); });
process.stdin.resume();
setTimeout(() => process.exit(3), 240000);
`;

/** What the other user tries with each string it saw: a login with it as the code, and the API with it as the token. Prints `<code status> <api status>` per line of stdin. */
const REPLAY = `
const base = process.argv[1];
const words = require('node:fs').readFileSync(0, 'utf8').split('\\n').filter(Boolean);
(async () => {
  for (const w of words) {
    const login = await fetch(base + '/login?code=' + encodeURIComponent(w), { redirect: 'manual' });
    const api = await fetch(base + '/api/status', { headers: { Authorization: 'Bearer ' + w } });
    const asUrl = /^https?:/.test(w) ? (await fetch(w, { redirect: 'manual' })).status : 401;
    process.stdout.write(login.status + ' ' + api.status + ' ' + asUrl + '\\n');
  }
})();
`;

interface Setup {
  home: string;
  /** Where this test's stand-in xdg-open lives. */
  bin: string;
  env: NodeJS.ProcessEnv;
  openerLog: string;
}

function setup(name: string): Setup {
  const home = tempDir(`${name}-home`);
  const bin = tempDir(`${name}-bin`);
  writeFileSync(join(bin, 'xdg-open'), OPENER);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  const openerLog = join(bin, 'opened.jsonl');
  return {
    home,
    bin,
    openerLog,
    env: { ...process.env, ORRERY_HOME: home, PATH: `${bin}:${process.env.PATH}`, OPENER_LOG: openerLog },
  };
}

function opened(s: Setup): { argv: string[]; login?: number; location?: string; api?: number; error?: string }[] {
  if (!existsSync(s.openerLog)) return [];
  // The opener creates the file before it writes its line: only whole lines count.
  return readFileSync(s.openerLog, 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l));
}

function headInfo(s: Setup): { url: string; token: string; pid: number } {
  return JSON.parse(readFileSync(join(s.home, 'head.json'), 'utf8'));
}

/** What the other user's `ps` showed: every distinct line, and those of processes that were not running when it started looking. */
interface Seen {
  all: string[];
  fresh: string[];
}

/** Starts the other user's `ps` poller; `stop()` resolves with what it saw. */
function startPoller(): { stop(): Promise<Seen> } {
  const child = spawn('runuser', ['-u', intruderUser, '--', process.execPath, '-e', POLLER], {
    cwd: '/',
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  return {
    async stop() {
      child.stdin!.end();
      await exited;
      const { before, seen } = JSON.parse(out) as { before: string[]; seen: string[] };
      const old = new Set(before);
      return { all: [...new Set([...before, ...seen])], fresh: seen.filter((l) => !old.has(l)) };
    },
  };
}

/** Every string in `lines` an attacker could try: whole lines and their pieces split at spaces and URL punctuation. */
function candidates(lines: readonly string[]): string[] {
  const out = new Set<string>();
  for (const line of lines) {
    if (!/orrery|xdg-open|login|token|code=/i.test(line)) continue;
    for (const word of line.split(/\s+/)) {
      if (word.length >= 16) out.add(word);
      for (const piece of word.split(/[/=?&#:]+/)) if (piece.length >= 16) out.add(piece);
    }
  }
  return [...out];
}

/**
 * The checks both ways of opening share, on what the other user saw while the browser ran. The
 * token is looked for in every line; the login-URL patterns and the replay only in processes that
 * started while the poller looked, so that a process unrelated to this test cannot fail it.
 */
function checkWhatTheyCouldSee(s: Setup, { all, fresh: seen }: Seen): void {
  const { token, url } = headInfo(s);
  const openerLines = seen.filter((l) => l.includes(join(s.bin, 'xdg-open')));
  assert.ok(openerLines.length > 0, `the poller saw no xdg-open process at all (it saw ${seen.length} new lines)`);
  assert.deepEqual(
    all.filter((l) => l.includes(token)),
    [],
    'the token is in a command line',
  );
  assert.deepEqual(
    seen.filter((l) => /code=|\/login\?|token=/.test(l)),
    [],
    'a login URL or code is in a command line',
  );
  for (const l of openerLines) {
    const path = l.split(/\s+/).find((w) => w.endsWith('.html'));
    assert.ok(path?.startsWith(join(s.home, 'run', 'login')), `the browser was handed ${l}, not a login page`);
    const read = asIntruder(['cat', path!]);
    assert.notEqual(read.status, 0, `${intruderUser} could read ${path}`);
    assert.doesNotMatch(read.stdout, /login\?code=/);
  }
  assert.notEqual(
    asIntruder(['ls', join(s.home, 'run', 'login')]).status,
    0,
    `${intruderUser} can list the login pages folder`,
  );
  const words = candidates(seen);
  assert.ok(words.length > 0);
  const replay = asIntruder([process.execPath, '-e', REPLAY, url], {
    input: `${words.join('\n')}\n`,
    timeoutMs: 60_000,
  });
  assert.equal(replay.status, 0, replay.stderr);
  const statuses = replay.stdout.trim().split('\n');
  assert.equal(statuses.length, words.length);
  for (const [i, st] of statuses.entries())
    assert.equal(st, '401 401 401', `${intruderUser} got in with ${JSON.stringify(words[i])}`);
}

/** The stand-in browser got in: it was handed one login page, its code logged it in, the cookie worked. */
function checkTheBrowserGotIn(s: Setup): void {
  const [first, ...rest] = opened(s);
  assert.deepEqual(rest, [], 'the browser was opened once');
  assert.equal(first!.error, undefined, JSON.stringify(first));
  assert.equal(first!.argv.length, 1);
  assert.match(first!.argv[0]!, new RegExp(`^${join(s.home, 'run', 'login')}/login-[0-9a-f]{24}\\.html$`));
  assert.deepEqual(
    { login: first!.login, location: first!.location, api: first!.api },
    { login: 303, location: '/', api: 200 },
  );
  assert.ok(!existsSync(first!.argv[0]!), 'the login page is removed once used');
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await until('the head to stop', () => child.exitCode !== null, 60_000);
}

describe('orrery dashboard on a machine shared with another user', () => {
  test('opening the dashboard of a running head puts neither the token nor a usable login URL where ps can read it', {
    timeout: 240_000,
  }, async (t) => {
    if (!requireIntruder(t)) return;
    const s = setup('open-running');
    const head = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--port', '0'], {
      env: s.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await until('the head to write head.json', () => existsSync(join(s.home, 'head.json')), 60_000);
      const poller = startPoller();
      await new Promise((r) => setTimeout(r, 300));
      const r = await run(['dashboard'], s.env);
      assert.equal(r.code, 0, r.stderr);
      await until('the browser to log in', () => opened(s).length > 0, 60_000);
      checkWhatTheyCouldSee(s, await poller.stop());
      checkTheBrowserGotIn(s);
      assert.ok(!r.stdout.includes(headInfo(s).token), 'the token is printed');
      assert.match(
        r.stdout,
        /dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(opened in your browser; another browser: orrery dashboard --url\)/,
      );
    } finally {
      await stopChild(head);
    }
  });

  test('orrery dashboard starting its own head opens it the same way', { timeout: 240_000 }, async (t) => {
    if (!requireIntruder(t)) return;
    const s = setup('open-own');
    const poller = startPoller();
    const dashboard = spawn(process.execPath, ['--import', 'tsx', MAIN, 'dashboard', '--port', '0'], {
      env: s.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    dashboard.stdout!.on('data', (d) => (out += d));
    try {
      await until('the browser to log in', () => opened(s).length > 0, 120_000);
      checkWhatTheyCouldSee(s, await poller.stop());
      checkTheBrowserGotIn(s);
      assert.ok(!out.includes(headInfo(s).token), 'the token is printed');
    } finally {
      await stopChild(dashboard);
    }
  });
});
