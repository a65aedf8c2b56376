/**
 * `orrery dashboard`: opens the dashboard of the running head, or starts a head service here
 * (as `orrery start` does) and opens its dashboard; `--example NAME` runs a bundled example
 * against it so there is something to watch; `--url` prints a one-time login link instead.
 *
 * The browser never sees the head's token: it is handed a login page (a file only this user
 * can read, forwarding to a one-time login URL; service/login-pages.ts), so its command line,
 * which every local user can read, holds only that file's path.
 */
import { spawn } from 'node:child_process';
import { findConfig } from '../head/config-file.ts';
import { serveUntilStopped } from './start-command.ts';
import { apiJson, resolveTarget, type HeadTarget } from '../client/api-client.ts';
import { DEFAULT_PORT, HeadService } from '../service/head-service.ts';
import { headFilePath, runningHead } from '../client/head-file.ts';
import { EXAMPLES } from '../service/dashboard-examples.ts';
import type { LoginUrl } from '../service/dashboard-login.ts';
import { LOGIN_CODE_TTL_MS } from '../service/login-codes.ts';
import { writeForwardingPage, type LoginPage } from '../service/login-pages.ts';
import { NoHeadRunningError } from '../client/client-errors.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery dashboard`. */
export const DASHBOARD_USAGE = `usage: orrery dashboard [--port ${DEFAULT_PORT}] [--config FILE] [--no-open] [--example ${Object.keys(EXAMPLES).join('|')}]
       orrery dashboard --url

Opens the dashboard in a browser. With a head service running (orrery start), opens its
dashboard. Otherwise starts a head service in this process, like orrery start (a local node
plus the config's backends, recorded into a new session), and runs until Ctrl-C.

The browser logs in with a one-time link (it works once, within ${LOGIN_CODE_TTL_MS / 60_000} minutes); the
head's token never goes into a URL or a command line.

  --url            print a fresh one-time login link of the running head (for another browser or a script) and exit
  --port N         port of a new head service (0 picks a free one)
  --config FILE    config of a new head service; the dashboard writes backend and rule edits there
  --no-open        print a login link instead of opening a browser
  --example NAME   run a bundled example as a driver of the head (${Object.keys(EXAMPLES).join(', ')})`;

/** What `orrery dashboard` says about a one-time link. */
const LINK_NOTE = `one-time login link, valid ${LOGIN_CODE_TTL_MS / 60_000} minutes; another: orrery dashboard --url`;

/** Runs `orrery dashboard`; resolves with the exit code. */
export async function dashboardCommand(
  args: string[],
  opts: CliOptions,
  print: (line: string) => void,
): Promise<number> {
  if (args.length > 0)
    throw new Error(`orrery dashboard takes no arguments (got ${args[0]}); see orrery dashboard --help`);
  if (opts.url === true) return printLoginUrl(opts, print);
  const example = typeof opts.example === 'string' ? opts.example : undefined;
  if (example !== undefined && !Object.hasOwn(EXAMPLES, example))
    throw new Error(`--example must be one of ${Object.keys(EXAMPLES).join(', ')} (got ${example})`);
  const open = opts['no-open'] !== true;
  const other = runningHead();
  if (other && other.pid !== process.pid) {
    const target: HeadTarget = { url: other.url, token: other.token, pid: other.pid };
    print(`orrery head already running (pid ${other.pid})`);
    if (example) {
      const res = await fetch(`${other.url}/api/examples/run`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${other.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: example }),
      });
      const body = (await res.json()) as { pid?: number; error?: string };
      if (!res.ok) throw new Error(`the head did not start example ${example}: ${body.error ?? `HTTP ${res.status}`}`);
      print(`  example:   ${example} (pid ${body.pid})`);
    }
    if (open && other.remote) {
      // The head's own login pages would be files on its host: write this machine's page here.
      openInBrowser(writeForwardingPage((await apiJson<LoginUrl>(target, 'POST', '/api/login-codes')).url));
      print(
        `  dashboard: ${other.url}/ (head on ${other.remote.where}; opened in your browser; another browser: orrery dashboard --url)`,
      );
    } else if (open) {
      openInBrowser((await apiJson<LoginPage>(target, 'POST', '/api/login-pages')).path);
      print(`  dashboard: ${other.url}/ (opened in your browser; another browser: orrery dashboard --url)`);
    } else {
      print(`  dashboard: ${(await apiJson<LoginUrl>(target, 'POST', '/api/login-codes')).url}`);
      print(`             (${LINK_NOTE})`);
    }
    return 0;
  }
  const port = opts.port === undefined ? DEFAULT_PORT : Number(opts.port);
  if (!/^\d+$/.test(String(opts.port ?? DEFAULT_PORT)) || port > 65535)
    throw new Error(`--port must be an integer from 0 to 65535 (got ${String(opts.port)})`);
  const cfg = findConfig(typeof opts.config === 'string' ? opts.config : undefined);
  const service = await HeadService.start({
    port,
    backends: cfg.backends,
    savedBackends: cfg.savedBackends,
    placementRules: cfg.placementRules ?? [],
    configPath: cfg.path,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // Signals stop the service from now on (see startCommand).
  const stopped = serveUntilStopped(service, print);
  const { info } = service;
  print(`orrery head running (pid ${info.pid}${cfg.path ? `, config ${cfg.path}` : ''})`);
  if (open) {
    openInBrowser(service.login.newPage().path);
    print(`  dashboard: ${info.url}/ (opened in your browser; another browser: orrery dashboard --url)`);
  } else {
    print(`  dashboard: ${service.login.newUrl().url}`);
    print(`             (${LINK_NOTE})`);
  }
  print(`  drivers:   init({ address: 'auto' }) or orrery run <script.ts> (address ${info.address})`);
  print(`  session:   ${service.session}`);
  print('  stop:      Ctrl-C or orrery stop');
  if (example) {
    const { pid } = await service.dashboard.examples.run({ name: example });
    print(`  example:   ${example} (pid ${pid})`);
  }
  return stopped;
}

/** `--url`: one line, the login link of the running head. */
async function printLoginUrl(opts: CliOptions, print: (line: string) => void): Promise<number> {
  for (const other of ['port', 'config', 'no-open', 'example']) {
    if (opts[other] !== undefined)
      throw new Error(
        `--url prints a login link of the running head and takes no --${other}; see orrery dashboard --help`,
      );
  }
  let target: HeadTarget;
  try {
    target = resolveTarget({});
  } catch (err) {
    if (err instanceof NoHeadRunningError)
      throw new Error(
        `no head is running (no live head in ${headFilePath()}); start one with \`orrery start\`, or open one with \`orrery dashboard\``,
      );
    throw err;
  }
  print((await apiJson<LoginUrl>(target, 'POST', '/api/login-codes')).url);
  return 0;
}

/** Asks the desktop to open `path` (a login page); a machine without a browser (or a display) is not an error. */
function openInBrowser(path: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [path]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', path]]
        : ['xdg-open', [path]];
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener: the command says how to get a login link.
  }
}
