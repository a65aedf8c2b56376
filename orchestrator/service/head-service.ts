/**
 * A head as a service in this process (`orrery start`): the head with a local node plus the
 * configured backends, an HTTP API and a WebSocket gateway for drivers on a loopback address,
 * and head.json so that drivers and the CLI find it. Every request and upgrade passes the Host
 * and access checks (head-access.ts); the dashboard's browsers log in with one-time codes
 * (dashboard-login.ts); a connection guard and server timeouts keep a flood of connections from
 * locking drivers and the dashboard out (connection-guard.ts, server-limits.ts). Its log goes to
 * head.log as well, and how it ended to head-exit.json (head-exit.ts), which `orrery stop` reads.
 */
import { createServer, type Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { orreryHome } from '../core/runtime-dir.ts';
import { createBackend } from '../head/backend-registry.ts';
import { configFileModules, type ModulePolicy } from '../head/module-backends.ts';
import { Head } from '../head/head.ts';
import { startSession } from '../head/session-recording.ts';
import { actorAdoptionFromSession, restoreLostActors } from '../head/actor-resume.ts';
import { adoptionFromSession, recordedResultsOf, recordedTasksOf, resubmitUnfinished } from '../head/session-resume.ts';
import { SessionStore, type SessionReader } from '../sessions/index.ts';
import type { PlacementRule } from '../scheduler/placement-rules.ts';
import { newToken, ownOrigins } from './auth.ts';
import { BrowserSessions } from './browser-sessions.ts';
import { ConnectionGuard } from './connection-guard.ts';
import { DashboardLogin } from './dashboard-login.ts';
import { headFilePath, removeHeadFile, runningHead, writeHeadFile, type HeadFile } from '../client/head-file.ts';
import { clearHeadExit, headExitPath, HeadLog, writeHeadExit, type HeadExit } from './head-exit.ts';
import { Dashboard } from './dashboard-routes.ts';
import { HeadAccess } from './head-access.ts';
import { allowedHosts } from './host-check.ts';
import { apiModulesRefused } from './dashboard-backends.ts';
import { handleHttp } from './http-api.ts';
import { HeadMetrics } from './head-metrics.ts';
import { LoginCodes } from './login-codes.ts';
import { applyServerTimeouts, connectionLimits, CONNECTIONS_CHECKING_INTERVAL_MS } from './server-limits.ts';
import { HeadAlreadyRunningError } from './service-errors.ts';
import { routeUpgrade } from './service-upgrades.ts';
import { DriverGateway } from './ws-gateway.ts';
import { MAX_DRIVER_MESSAGE_BYTES } from '../protocol/driver-socket.ts';

/** Default port of the head service (Ray's dashboard port). */
export const DEFAULT_PORT = 8265;

/** Options of {@link HeadService.start}. */
export interface HeadServiceOptions {
  /** TCP port; 0 picks a free one. Default 8265. */
  readonly port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Backend configs besides the built-in local one. */
  readonly backends?: readonly unknown[];
  /** Names of `backends` saved without starting (the config file's `savedBackends`): listed as saved, not started. */
  readonly savedBackends?: readonly string[];
  readonly placementRules?: readonly PlacementRule[];
  /** CPUs of the local node (default: availableParallelism()). */
  readonly numCpus?: number;
  /** The head's own warnings (default: stderr). */
  readonly log?: (line: string) => void;
  /** The experiment session to record into (default: a new one named by the start time). */
  readonly session?: string;
  /** Continue session `session` after a head that died: reattach to its agents and collect its results. */
  readonly resume?: boolean;
  /** Seconds agents outlive a lost head (default DEFAULT_AGENT_GRACE_S, 30 minutes). */
  readonly graceS?: number;
  /**
   * The config file: the dashboard writes its backend and rule edits there, and `module:` paths
   * of `backends` are relative to it (default `$ORRERY_HOME/config.json`).
   */
  readonly configPath?: string;
  /** Sockets the server holds at once (default: half the open-file limit, within 32..4096). */
  readonly maxConnections?: number;
  /** Largest message a driver may send, in bytes (default 512 MiB). */
  readonly maxDriverMessageBytes?: number;
  /**
   * Let client drivers and the HTTP API add `module:` backends (`--allow-module-backends`):
   * drivers' paths are relative to this process's working directory, the API's to the config
   * file. Off by default: they would load code into the head.
   */
  readonly allowModuleBackends?: boolean;
  /** The session's budget for paid jobs in US dollars (`orrery start --budget-usd`); a resumed session keeps the one it recorded unless given. */
  readonly budgetUsd?: number;
  /**
   * The loopback port of the laptop's SSH tunnel to this head (`orrery start --on`, which sets
   * `--tunnel-port`): requests naming `127.0.0.1:<tunnelPort>` as Host and Origin are the
   * head's own (the browser sees the tunnel's address), and login links point there.
   */
  readonly tunnelPort?: number;
}

/** A running head service. */
/** How long agents keep running without a head unless told otherwise: 30 minutes. */
export const DEFAULT_AGENT_GRACE_S = 1800;

export class HeadService {
  private stopping: Promise<HeadExit> | undefined;
  private resolveStopped!: () => void;
  /** Resolves once the service stopped (by `stop()`, or POST /api/shutdown). */
  readonly stopped = new Promise<void>((r) => (this.resolveStopped = r));

  private constructor(
    readonly head: Head,
    private readonly server: Server,
    private readonly gateway: DriverGateway,
    /** What head.json holds. */
    readonly info: HeadFile,
    /** The session this head records into. */
    readonly session: string,
    private readonly endSession: () => Promise<void>,
    /** The dashboard's API, files and live feed. */
    readonly dashboard: Dashboard,
    /** One-time login URLs and pages for the dashboard. */
    readonly login: DashboardLogin,
    /** The server's sockets. */
    readonly connections: ConnectionGuard,
    private readonly headLog: HeadLog,
    private readonly log: (line: string) => void,
    /** Seconds its agents keep running without a head (`--agent-grace`). */
    readonly agentGraceS: number,
  ) {}

  /** Starts a head service; throws HeadAlreadyRunningError when head.json names a live one. */
  static async start(opts: HeadServiceOptions = {}): Promise<HeadService> {
    const other = runningHead();
    if (other && other.pid !== process.pid) throw new HeadAlreadyRunningError(other.pid, other.address);
    const port = opts.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new RangeError(`port must be an integer from 0 to 65535 (got ${port})`);
    const host = opts.host ?? '127.0.0.1';
    const home = orreryHome();
    clearHeadExit();
    const headLog = new HeadLog();
    const print = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const log = (line: string) => {
      headLog.append(line);
      print(line);
    };
    const configPath = opts.configPath ?? join(home, 'config.json');
    const configModules = configFileModules(configPath, dirname(configPath));
    const driverModules: ModulePolicy | undefined = opts.allowModuleBackends
      ? { allow: 'relative', baseDir: process.cwd(), baseName: `the head's working directory (${process.cwd()})` }
      : undefined;
    const sessionName = opts.session ?? `session-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
    // Resuming: the session says which tasks the agents that outlived the last head report are this head's to adopt.
    const reader: SessionReader | undefined = opts.resume ? new SessionStore().open(sessionName) : undefined;
    const budgetUsd = opts.budgetUsd ?? recordedBudget(reader);
    const agentGraceS = opts.graceS ?? DEFAULT_AGENT_GRACE_S;
    if (!Number.isFinite(agentGraceS) || agentGraceS < 0)
      throw new TypeError(`graceS must be a number of seconds >= 0 (got ${String(agentGraceS)})`);
    const head = new Head({
      ...(budgetUsd !== undefined && { budget: { usd: budgetUsd } }),
      placementRules: opts.placementRules as PlacementRule[] | undefined,
      log,
      driverModules,
      durable: { graceS: agentGraceS, runDir: join(home, 'run'), reattach: opts.resume === true },
      adoption: reader
        ? {
            ...adoptionFromSession(reader),
            actor: actorAdoptionFromSession(reader),
            recorded: recordedTasksOf(() => new SessionStore().open(sessionName)),
            result: recordedResultsOf(() => new SessionStore().open(sessionName)),
          }
        : undefined,
    });
    let session: ReturnType<typeof startSession> | undefined;
    // Worker output goes to the driver that owns the task, not to the service's terminal.
    head.logs.stopEcho();
    let server: Server | undefined;
    let guard: ConnectionGuard | undefined;
    let gateway: DriverGateway | undefined;
    let dashboard: Dashboard | undefined;
    let dashboardLogin: DashboardLogin | undefined;
    try {
      // What earlier heads of a resumed session spent counts against its budgets.
      for (const t of reader?.taskCosts() ?? []) head.spend.carry(t.taskId, t.backend, t.usd);
      const recorded = { backends: opts.backends ?? [], ...(budgetUsd !== undefined && { budgetUsd }) };
      session = startSession(head, sessionName, recorded, opts.placementRules, {
        resume: opts.resume,
        log,
      });
      const localConfig = { name: 'local', kind: 'local', numCpus: opts.numCpus ?? availableParallelism() };
      await head.addBackend(await createBackend(localConfig));
      const saved = new Set(opts.savedBackends ?? []);
      for (const c of opts.backends ?? []) {
        if (saved.has((c as { name?: unknown }).name as string)) continue;
        await head.addBackend(await createBackend(c, configModules));
      }
      if (reader) {
        // Actors first: the calls resubmitted next go to them in order.
        restoreLostActors(head, reader, log);
        resubmitUnfinished(head, reader, session.recorder, log);
      }
      reader?.close();
      const token = newToken();
      const srv = (server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS }));
      applyServerTimeouts(srv);
      const connections = (guard = new ConnectionGuard(srv, connectionLimits(opts.maxConnections)));
      srv.on('clientError', (_err, socket) => socket.destroy());
      const bound = await listen(srv, port, host);
      const hostPart = host.includes(':') ? `[${host}]` : host;
      const info: HeadFile = {
        address: `ws://${hostPart}:${bound}`,
        url: `http://${hostPart}:${bound}`,
        token,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        session: sessionName,
        ...(opts.tunnelPort !== undefined && { tunnelPort: opts.tunnelPort }),
      };
      const sessions = new BrowserSessions(bound);
      const tunnel = opts.tunnelPort;
      const origins = new Set([...ownOrigins(host, bound), ...(tunnel ? ownOrigins('127.0.0.1', tunnel) : [])]);
      const hosts = new Set([...allowedHosts(host, bound), ...(tunnel ? allowedHosts('127.0.0.1', tunnel) : [])]);
      const access = new HeadAccess(token, sessions, origins, hosts);
      const loginBase = tunnel ? `http://127.0.0.1:${tunnel}` : info.url;
      const login = (dashboardLogin = new DashboardLogin(new LoginCodes(), sessions, loginBase));
      let service: HeadService | undefined;
      const gw = (gateway = new DriverGateway(head, log, opts.maxDriverMessageBytes ?? MAX_DRIVER_MESSAGE_BYTES));
      const dash = (dashboard = new Dashboard({
        head,
        session: sessionName,
        recorder: session.recorder,
        configPath,
        backends: [localConfig, ...((opts.backends ?? []) as Record<string, unknown>[])],
        savedBackends: [...saved],
        modules: {
          api: opts.allowModuleBackends ? configModules : apiModulesRefused(configPath),
          configFile: configModules,
        },
        placementRules: opts.placementRules,
        driverEnv: () => ({ address: info.address, token }),
      }));
      const api = {
        head,
        access,
        connections,
        login,
        drivers: () => gw.size,
        agentGraceS,
        shutdown: () => void service?.stop(),
        dashboard: dash,
        exit: { file: headExitPath(), log: headLog.path },
        metrics: new HeadMetrics(head),
      };
      srv.on('request', (req, res) => handleHttp(api, req, res));
      srv.on('upgrade', (req, socket, buf) =>
        routeUpgrade({ access, connections, feed: dash.feed, gateway: gw }, req, socket, buf),
      );
      writeHeadFile(info);
      service = new HeadService(
        head,
        srv,
        gw,
        info,
        sessionName,
        session.stop,
        dash,
        login,
        connections,
        headLog,
        log,
        agentGraceS,
      );
      return service;
    } catch (err) {
      dashboardLogin?.close();
      dashboard?.close();
      gateway?.close();
      guard?.close();
      server?.close();
      // Backends that fail to shut down are logged by the head; the error that stopped the start is the one to see.
      await head.shutdown().catch(() => undefined);
      await session?.stop();
      throw err;
    }
  }

  /** Where head.json is. */
  get headFile(): string {
    return headFilePath();
  }

  /**
   * Disconnects drivers, stops the head and its nodes, closes the server and removes head.json
   * (idempotent). Resolves with how it went, also recorded in head-exit.json: a backend that
   * failed to shut down makes it not ok, and everything else still stops.
   */
  stop(): Promise<HeadExit> {
    this.stopping ??= (async () => {
      removeHeadFile(process.pid);
      this.login.close();
      this.dashboard.close();
      this.gateway.close();
      this.connections.close();
      const closed = new Promise<void>((r) => this.server.close(() => r()));
      this.server.closeAllConnections();
      const problems: string[] = [];
      await this.head.shutdown().catch((err: Error) => problems.push(err.message));
      await this.endSession().catch((err: Error) => problems.push(`the session did not close: ${err.message}`));
      await closed;
      const exit = this.recordExit(problems.length === 0 ? undefined : problems.join('; '));
      this.resolveStopped();
      return exit;
    })();
    return this.stopping;
  }

  /** How the service ended once it stopped (undefined while it runs). */
  get exit(): Promise<HeadExit> | undefined {
    return this.stopping;
  }

  /** Records that this process is going down on an error nothing handled (`orrery start` calls it as the process dies). */
  recordCrash(err: unknown, origin: string): void {
    const message = err instanceof Error ? err.message : String(err);
    this.recordExit(
      `${origin === 'unhandledRejection' ? 'an unhandled rejection' : 'an uncaught exception'}: ${message}`,
    );
  }

  private recordExit(problem: string | undefined): HeadExit {
    const reason = problem?.replace(/\s*\n\s*/g, ' ');
    if (reason !== undefined) this.log(`orrery: the head did not stop cleanly: ${reason}`);
    const exit: HeadExit =
      reason === undefined
        ? { pid: process.pid, ok: true, log: this.headLog.path, at: new Date().toISOString() }
        : { pid: process.pid, ok: false, reason, log: this.headLog.path, at: new Date().toISOString() };
    try {
      writeHeadExit(exit);
    } catch (err) {
      this.log(`orrery: cannot record how the head stopped in ${headExitPath()}: ${(err as Error).message}`);
    }
    return exit;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is in use; pick another with --port (0 picks a free one)`)
          : err,
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The session budget a resumed session recorded (its config's `budgetUsd`). */
function recordedBudget(reader: SessionReader | undefined): number | undefined {
  const usd = (reader?.metadata().config as { budgetUsd?: unknown } | null | undefined)?.budgetUsd;
  return typeof usd === 'number' && Number.isFinite(usd) && usd >= 0 ? usd : undefined;
}
