#!/usr/bin/env node
/**
 * The `orrery` command line. Each command has --help; errors print one line and exit non-zero.
 */
import { cleanBackend, listBackends, testBackend } from './backends-command.ts';
import { startCommand, START_USAGE } from './start-command.ts';
import { stopCommand, STOP_USAGE } from './stop-command.ts';
import { runCommand, RUN_USAGE } from './run-command.ts';
import { statusCommand, STATUS_USAGE } from './status-command.ts';
import { listCommand, LIST_USAGE } from './list-command.ts';
import { summaryCommand, SUMMARY_USAGE } from './summary-command.ts';
import { logsCommand, LOGS_USAGE } from './logs-command.ts';
import { sessionsCommand, SESSIONS_USAGE } from './sessions-command.ts';
import { sessionsPullCommand } from './sessions-pull-command.ts';
import { secretsCommand, SECRETS_USAGE } from './secrets-command.ts';
import { dashboardCommand, DASHBOARD_USAGE } from './dashboard-command.ts';
import { appCommand, APP_USAGE } from './app-command.ts';
import { cancelCommand, CANCEL_USAGE, killCommand, KILL_USAGE, retryCommand, RETRY_USAGE } from './control-command.ts';
import { timelineCommand, TIMELINE_USAGE } from './timeline-command.ts';
import { initCommand, INIT_USAGE } from './init-command.ts';
import { parseCommandLine, type CommandSpec } from './command-line.ts';

const USAGE = `usage: orrery <command> [options]

commands:
  init <dir> [--force]                 write a new project: orrery.json, driver.ts, tsconfig.json, package.json, README
  start [--port 8265] [--config FILE] [--session NAME | --resume NAME] [--agent-grace 30m] [--allow-module-backends]
                                       run a head service here (HTTP + WebSocket on 127.0.0.1) until stopped
  start --on <ssh host> [...]          run the head on that host (it keeps running there), reached through an SSH tunnel
  stop                                 stop the running head service
  dashboard [--port N] [--no-open] [--example vqe-h2]   open the dashboard (starts a head service if none runs)
  dashboard --url                      print a one-time dashboard login link of the running head
  app [--example vqe-h2] [--port N]    open the desktop app (Electron; without it, the dashboard in a browser)
  run <script.ts> [--session NAME] [args...]  run a driver script against the running head (or an embedded one)
  status                               nodes per backend, resource usage, pending and infeasible demand
  list tasks|actors|objects|nodes|placement-groups [--filter k=v ...] [--limit N] [--json]
  summary tasks                        task counts per name and state
  logs <taskId> [-f]                   a task's output (-f: follow until it ends)
  cancel <taskId> [--force]            cancel a task (--force: kill its worker at once; --job ID: a whole run)
  retry <taskId> [--wait]              submit a failed or cancelled task again (new id; --wait: its result)
  kill <actor> [--namespace NS]        kill an actor by id or name (no restart)
  timeline <file.json>                 write the tasks as a Chrome trace (Perfetto) file, per node and worker
  sessions list|show|label|export|pull|delete|compare   experiment sessions (see orrery sessions --help)
  secrets set|delete <name>            secrets in the OS keychain (configs and secret(name) name them)
  backends list [--config FILE]        the configured backends
  backends test <name> [--config FILE] start one backend alone, check it end to end, run a probe task
  backends clean <name> [--older-than DAYS] [--config FILE]
                                       remove agent bundles, Node runtimes, environments and working
                                       folders unused for DAYS (default 7) from the backend's hosts

options:
  --config FILE   the config file (default ./orrery.json, then ~/.orrery/config.json)
  --address ADDR  the head to talk to (default: ORRERY_ADDRESS, then ~/.orrery/head.json);
                  its token comes from ORRERY_TOKEN, then head.json (never the command line)
  --help          this text (orrery <command> --help: that command's)`;

const REMOTE = { address: 'value' } as const;

const COMMANDS: Record<string, CommandSpec> = {
  init: { usage: INIT_USAGE, options: { force: 'flag' }, run: (a, o, p) => initCommand(a, o, p) },
  start: {
    usage: START_USAGE,
    options: {
      port: 'value',
      config: 'value',
      host: 'value',
      session: 'value',
      resume: 'value',
      'budget-usd': 'value',
      'agent-grace': 'value',
      'allow-module-backends': 'flag',
      on: 'value',
      'tunnel-port': 'value',
    },
    run: (a, o, p) => startCommand(a, o, p),
  },
  dashboard: {
    usage: DASHBOARD_USAGE,
    options: { port: 'value', config: 'value', 'no-open': 'flag', example: 'value', url: 'flag' },
    run: (a, o, p) => dashboardCommand(a, o, p),
  },
  app: { usage: APP_USAGE, options: { example: 'value', port: 'value' }, run: (a, o, p) => appCommand(a, o, p) },
  sessions: {
    usage: SESSIONS_USAGE,
    options: {
      json: 'flag',
      title: 'value',
      notes: 'value',
      tag: 'list',
      untag: 'list',
      on: 'value',
      config: 'value',
      local: 'flag',
    },
    run: async (a, o, p) => {
      if (a[0] === 'pull') return sessionsPullCommand(a[1], o, p);
      await sessionsCommand(
        a,
        o.json === true,
        p,
        {
          title: typeof o.title === 'string' ? o.title : undefined,
          notes: typeof o.notes === 'string' ? o.notes : undefined,
          tag: Array.isArray(o.tag) ? o.tag : undefined,
          untag: Array.isArray(o.untag) ? o.untag : undefined,
        },
        o.local === true,
      );
      return 0;
    },
  },
  secrets: {
    usage: SECRETS_USAGE,
    options: {},
    run: async ([sub, name], _o, p) => {
      await secretsCommand(sub, name, p);
      return 0;
    },
  },
  stop: { usage: STOP_USAGE, options: { ...REMOTE }, run: (a, o, p) => stopCommand(a, o, p) },
  run: { usage: RUN_USAGE, options: { session: 'value' }, passThrough: true, run: (a, o) => runCommand(a, o) },
  status: { usage: STATUS_USAGE, options: { ...REMOTE, json: 'flag' }, run: (a, o, p) => statusCommand(a, o, p) },
  list: {
    usage: LIST_USAGE,
    options: { ...REMOTE, filter: 'list', limit: 'value', json: 'flag' },
    run: (a, o, p) => listCommand(a, o, p),
  },
  summary: { usage: SUMMARY_USAGE, options: { ...REMOTE, json: 'flag' }, run: (a, o, p) => summaryCommand(a, o, p) },
  logs: {
    usage: LOGS_USAGE,
    options: { ...REMOTE, follow: 'flag' },
    short: { f: 'follow' },
    run: (a, o, p) => logsCommand(a, o, p),
  },
  cancel: {
    usage: CANCEL_USAGE,
    options: { ...REMOTE, force: 'flag', job: 'value' },
    run: (a, o, p) => cancelCommand(a, o, p),
  },
  retry: {
    usage: RETRY_USAGE,
    options: { ...REMOTE, wait: 'flag', rerun: 'flag' },
    run: (a, o, p) => retryCommand(a, o, p),
  },
  kill: {
    usage: KILL_USAGE,
    options: { ...REMOTE, namespace: 'value', restart: 'flag' },
    run: (a, o, p) => killCommand(a, o, p),
  },
  timeline: { usage: TIMELINE_USAGE, options: { ...REMOTE }, run: (a, o, p) => timelineCommand(a, o, p) },
  backends: {
    usage:
      'usage: orrery backends list [--config FILE]\n       orrery backends test <name> [--config FILE]\n       orrery backends clean <name> [--older-than DAYS] [--config FILE]',
    options: { config: 'value', 'older-than': 'value' },
    run: async ([sub, name], o, print) => {
      const config = typeof o.config === 'string' ? o.config : undefined;
      if (sub === 'list') {
        listBackends(config, print);
        return 0;
      }
      if (sub === 'test') {
        if (!name) throw new Error('backends test needs a backend name: orrery backends test <name>');
        await testBackend(name, config, print);
        print(`backend ${name} is ready`);
        return 0;
      }
      if (sub === 'clean') {
        if (!name) throw new Error('backends clean needs a backend name: orrery backends clean <name>');
        const days = o['older-than'] === undefined ? 7 : Number(o['older-than']);
        if (!Number.isFinite(days) || days < 0)
          throw new Error(`--older-than must be a number of days >= 0 (got ${String(o['older-than'])})`);
        await cleanBackend(name, config, days, print);
        return 0;
      }
      throw new Error(
        `unknown command backends${sub ? ` ${sub}` : ''}; use backends list, backends test <name> or backends clean <name>`,
      );
    },
  },
};

async function main(argv: string[]): Promise<number> {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const first = argv.find((a) => !a.startsWith('-'));
  const spec = first && Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  const { args, opts } = parseCommandLine(argv, spec, (name) => Object.hasOwn(COMMANDS, name));
  const [cmd] = args;
  if (!cmd) {
    print(USAGE);
    return opts.help ? 0 : 1;
  }
  if (!spec) throw new Error(`unknown command ${[cmd, args[1]].filter(Boolean).join(' ')}; see orrery --help`);
  if (opts.help) {
    print(spec.usage);
    return 0;
  }
  return spec.run(args.slice(1), opts, print);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`orrery: ${err.message.split('\n')[0]}\n`);
    process.exit(1);
  },
);
