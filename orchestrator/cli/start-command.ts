/** `orrery start`: a head service in this process, in the foreground until SIGINT/SIGTERM or `orrery stop`. */
import { formatDuration, parseDuration } from '../core/duration.ts';
import { findConfig } from '../head/config-file.ts';
import { DEFAULT_PORT, HeadService } from '../service/head-service.ts';
import { LOGIN_CODE_TTL_MS } from '../service/login-codes.ts';
import type { CliOptions } from './command-line.ts';
import { portOption, startOnCommand, START_ON_USAGE } from './start-on-command.ts';

/** Help of `orrery start`. */
export const START_USAGE = `usage: orrery start [--port ${DEFAULT_PORT}] [--config FILE] [--host 127.0.0.1] [--session NAME | --resume NAME] [--budget-usd N] [--agent-grace 30m] [--allow-module-backends]
       orrery start --on <ssh host> [--port 8265] [--config FILE] [--session NAME | --resume NAME] [--agent-grace 30m] [--budget-usd N]

Runs a head here with a local node (all CPUs) plus the config's backends and placement rules,
serving HTTP and WebSocket on 127.0.0.1 (--port 0 picks a free port). Writes ~/.orrery/head.json
(or $ORRERY_HOME/head.json) with the address and a fresh token, so init({ address: 'auto' }),
orrery run and the other commands find it. Prints a one-time login link for the dashboard
(orrery dashboard --url prints another). Runs until Ctrl-C, SIGTERM or orrery stop.

Everything is recorded into an experiment session (--session NAME, default session-<time>).
Its agents outlive the head for the agent grace period: if the head dies (or the laptop
sleeps), orrery start --resume NAME within it reattaches to them, collects what finished
meanwhile, submits again what never ran, and records every result once into session NAME.

--agent-grace D sets that period (90s, 30m, 8h, 2d; default 30m, or the config's agentGrace).
Longer lets a run outlive a closed laptop for longer; meanwhile the agents, their workers and
Slurm allocations hold their CPUs, GPUs and memory (and bill, on paid nodes) with no head to
give them work. orrery status reports the period in force.

--budget-usd N caps what the session's paid jobs (IBM Quantum, Braket, SageMaker) may cost in
US dollars: a job whose estimate would cross it fails with BudgetExceededError before it is
submitted. A resumed session keeps its recorded budget, and what it spent counts against it.

The config's module: backends load code: by package name, or by a path relative to the config
file. Client drivers (init({ backends })) and the dashboard cannot add module backends unless
--allow-module-backends is given (drivers' paths are then relative to this directory).

The head logs to stderr and to ~/.orrery/head.log, and records how it stopped in
~/.orrery/head-exit.json (orrery stop reports it); it exits non-zero when it did not stop cleanly.

${START_ON_USAGE}`;

/** Runs the service; resolves with the exit code once it stopped. */
export async function startCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  if (args.length > 0) throw new Error(`orrery start takes no arguments (got ${args[0]}); see orrery start --help`);
  if (opts.on !== undefined) return startOnCommand(opts, print);
  const tunnelPort = opts['tunnel-port'] === undefined ? undefined : portOption(opts['tunnel-port'], '--tunnel-port');
  const port = opts.port === undefined ? DEFAULT_PORT : Number(opts.port);
  if (!/^\d+$/.test(String(opts.port ?? DEFAULT_PORT)) || port > 65535)
    throw new Error(`--port must be an integer from 0 to 65535 (got ${String(opts.port)})`);
  const host = typeof opts.host === 'string' ? opts.host : '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(host))
    throw new Error(
      `--host must be a loopback address (127.0.0.1, ::1 or localhost; got ${host}): the head serves only this machine`,
    );
  const cfg = findConfig(typeof opts.config === 'string' ? opts.config : undefined);
  if (opts.session !== undefined && opts.resume !== undefined)
    throw new Error('give --session NAME for a new session or --resume NAME to continue one, not both');
  const resume = typeof opts.resume === 'string' ? opts.resume : undefined;
  const budget = opts['budget-usd'];
  const budgetUsd = budget === undefined ? undefined : Number(budget);
  if (budgetUsd !== undefined && (typeof budget !== 'string' || !Number.isFinite(budgetUsd) || budgetUsd < 0))
    throw new Error(`--budget-usd must be a number of US dollars >= 0 (got ${String(budget)})`);
  const grace = opts['agent-grace'];
  if (grace === true) throw new Error('--agent-grace needs a duration, such as --agent-grace 8h');
  const graceS = grace === undefined ? cfg.agentGraceS : parseDuration(grace, '--agent-grace');
  const service = await HeadService.start({
    port,
    host: host === 'localhost' ? '127.0.0.1' : host,
    backends: cfg.backends,
    savedBackends: cfg.savedBackends,
    placementRules: cfg.placementRules ?? [],
    log: (line) => process.stderr.write(`${line}\n`),
    configPath: cfg.path,
    session: resume ?? (typeof opts.session === 'string' ? opts.session : undefined),
    resume: resume !== undefined,
    allowModuleBackends: opts['allow-module-backends'] === true,
    budgetUsd,
    graceS,
    tunnelPort,
  });
  // Signals stop the service from now on: it is listed in head.json already, and a SIGTERM
  // that came before the handlers would kill it without a clean stop.
  const stopped = serveUntilStopped(service, print);
  const { info } = service;
  const nodes = service.head.queries.nodeIds().length;
  print(
    `orrery head running (pid ${info.pid}, ${nodes} node${nodes === 1 ? '' : 's'}${cfg.path ? `, config ${cfg.path}` : ''})`,
  );
  print(`  dashboard: ${service.login.newUrl().url}`);
  print(
    `             (one-time login link, valid ${LOGIN_CODE_TTL_MS / 60_000} minutes; another: orrery dashboard --url)`,
  );
  print(`  drivers:   init({ address: 'auto' }) or orrery run <script.ts> (address ${info.address})`);
  print(`  stop:      orrery stop, or Ctrl-C`);
  print(`  head file: ${service.headFile}`);
  print(`  session:   ${service.session}${resume ? ' (resumed)' : ''}`);
  print(`  agents:    keep running ${formatDuration(service.agentGraceS)} without a head (--agent-grace)`);
  return stopped;
}

/**
 * Keeps the service running until Ctrl-C, SIGTERM or `orrery stop`; resolves with exit code 0
 * when it stopped cleanly, 1 when it did not. An error nothing handled is recorded as the
 * head's end before the process dies of it.
 */
export async function serveUntilStopped(service: HeadService, print: (line: string) => void): Promise<number> {
  const onSignal = (sig: NodeJS.Signals) => {
    print(`orrery: ${sig}: stopping the head`);
    void service.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('uncaughtExceptionMonitor', (err, origin) => service.recordCrash(err, origin));
  await service.stopped;
  const exit = await service.exit!;
  if (!exit.ok) {
    print(`orrery head stopped, but not cleanly: ${exit.reason}; its log: ${exit.log}`);
    return 1;
  }
  print('orrery head stopped');
  return 0;
}
