/**
 * `orrery dashboard`: opens the dashboard of the running head, or starts a head service here
 * (as `orrery start` does) and opens its dashboard; `--example NAME` runs a bundled example
 * against it so there is something to watch.
 */
import { spawn } from 'node:child_process';
import { loadConfig } from './config-file.ts';
import { serveUntilStopped } from './start-command.ts';
import { DEFAULT_PORT, HeadService } from '../service/head-service.ts';
import { runningHead } from '../service/head-file.ts';
import { EXAMPLES } from '../service/dashboard-examples.ts';
import type { PlacementRule } from '../scheduler/placement-rules.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery dashboard`. */
export const DASHBOARD_USAGE = `usage: orrery dashboard [--port ${DEFAULT_PORT}] [--config FILE] [--no-open] [--example ${Object.keys(EXAMPLES).join('|')}]

Opens the dashboard in a browser. With a head service running (orrery start), prints its
dashboard URL (it carries the token) and opens it. Otherwise starts a head service in this
process, like orrery start (a local node plus the config's backends, recorded into a new
session), and runs until Ctrl-C.

  --port N         port of a new head service (0 picks a free one)
  --config FILE    config of a new head service; the dashboard writes backend and rule edits there
  --no-open        print the URL only
  --example NAME   run a bundled example as a driver of the head (${Object.keys(EXAMPLES).join(', ')})`;

/** Runs `orrery dashboard`; resolves with the exit code. */
export async function dashboardCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  if (args.length > 0) throw new Error(`orrery dashboard takes no arguments (got ${args[0]}); see orrery dashboard --help`);
  const example = typeof opts.example === 'string' ? opts.example : undefined;
  if (example !== undefined && !Object.hasOwn(EXAMPLES, example)) throw new Error(`--example must be one of ${Object.keys(EXAMPLES).join(', ')} (got ${example})`);
  const open = opts['no-open'] !== true;
  const other = runningHead();
  if (other && other.pid !== process.pid) {
    const url = `${other.url}/?token=${other.token}`;
    print(`orrery head already running (pid ${other.pid})`);
    print(`  dashboard: ${url}`);
    if (example) {
      const res = await fetch(`${other.url}/api/examples/run`, {
        method: 'POST', headers: { Authorization: `Bearer ${other.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: example }),
      });
      const body = (await res.json()) as { pid?: number; error?: string };
      if (!res.ok) throw new Error(`the head did not start example ${example}: ${body.error ?? `HTTP ${res.status}`}`);
      print(`  example:   ${example} (pid ${body.pid})`);
    }
    if (open) openBrowser(url);
    return 0;
  }
  const port = opts.port === undefined ? DEFAULT_PORT : Number(opts.port);
  if (!/^\d+$/.test(String(opts.port ?? DEFAULT_PORT)) || port > 65535) throw new Error(`--port must be an integer from 0 to 65535 (got ${String(opts.port)})`);
  const cfg = loadConfig(typeof opts.config === 'string' ? opts.config : undefined);
  const service = await HeadService.start({
    port,
    backends: cfg.backends,
    placementRules: cfg.placementRules as PlacementRule[],
    configPath: cfg.path,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const { info } = service;
  const url = `${info.url}/?token=${info.token}`;
  print(`orrery head running (pid ${info.pid}${cfg.path ? `, config ${cfg.path}` : ''})`);
  print(`  dashboard: ${url}`);
  print(`  drivers:   init({ address: 'auto' }) or orrery run <script.ts> (address ${info.address})`);
  print(`  session:   ${service.session}`);
  print('  stop:      Ctrl-C or orrery stop');
  if (example) {
    const { pid } = await service.dashboard.examples.run({ name: example });
    print(`  example:   ${example} (pid ${pid})`);
  }
  if (open) openBrowser(url);
  return serveUntilStopped(service, print);
}

/** Asks the desktop to open `url`; a machine without a browser (or a display) is not an error. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener: the URL was printed.
  }
}
