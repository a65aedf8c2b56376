/**
 * One SSH connection (through jump hosts when configured) with host key checking, keepalive,
 * a channel limit, and errors that say what failed and what to do. Shared by the ssh and slurm
 * backends; reconnecting is {@link connectWithBackoff}'s job, not the connection's.
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { ChannelLimiter } from './channel-limiter.ts';
import { KnownHosts, fingerprint, keyTypeOf, type HostKeyVerdict } from './known-hosts.ts';
import { planAuth, type PassphraseSource } from './ssh-auth.ts';
import { describeAddress, type SshTarget } from './ssh-config.ts';

/** OpenSSH's default `MaxSessions`: channels one connection may have open at once. */
export const DEFAULT_MAX_SESSIONS = 10;
/** Retries of a session open refused right after another channel closed (25 ms, doubling: ~0.8 s in all). */
const SESSION_OPEN_RETRIES = 5;

/** How to connect. */
export interface SshConnectOptions {
  /** Backend name, for errors. */
  readonly backend: string;
  readonly target: SshTarget;
  /** A key to use before the config's and the default ones; it must exist. */
  readonly identityFile?: string;
  readonly passphrase?: PassphraseSource;
  readonly knownHostsFile: string;
  /** ssh-agent socket; default `SSH_AUTH_SOCK`, `''` for none. */
  readonly agentSocket?: string;
  /** Keepalive probe period (ms); three unanswered probes end the connection. Default 10 s. */
  readonly keepaliveIntervalMs?: number;
  /** How long the TCP connect plus handshake may take (ms). Default 20 s. */
  readonly readyTimeoutMs?: number;
  /** Channels open at once per connection (the server's MaxSessions). */
  readonly maxSessions?: number;
}

/** Output of a command run to completion. */
export interface CommandOutput {
  readonly code: number | null;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** A live SSH connection. `closed` resolves with the reason once it ends, for whatever cause. */
export class SshConnection {
  /** Resolves (never rejects) with why the connection ended. */
  readonly closed: Promise<string>;
  private readonly limiter: ChannelLimiter;
  private ended = false;
  private endReason = 'closed';

  /** Use {@link SshConnection.open}. */
  constructor(
    private readonly client: ssh2.Client,
    readonly target: SshTarget,
    private readonly backend: string,
    maxSessions: number,
    /** Connections to the jump hosts this one runs through, outermost first; closed with it. */
    readonly via: readonly SshConnection[],
    /** The host key the server proved, as checked against known_hosts (`ssh-ed25519 SHA256:...`). */
    readonly hostKey: string,
  ) {
    this.limiter = new ChannelLimiter(maxSessions);
    this.closed = new Promise((resolve) => {
      client.on('error', (err: Error) => (this.endReason = `${describeAddress(target)}: ${err.message}`));
      client.once('close', () => {
        this.ended = true;
        this.limiter.close(
          new BackendError(
            backend,
            `the SSH connection to ${describeAddress(target)} closed (${this.endReason})`,
            true,
          ),
        );
        for (const h of via) h.close();
        resolve(this.endReason);
      });
    });
    for (const h of via)
      void h.closed.then((why) => this.close(`jump host ${describeAddress(h.target)} disconnected: ${why}`));
  }

  /** Connects to `opts.target`, through its jump hosts in order; rejects with one BackendError. */
  static async open(opts: SshConnectOptions): Promise<SshConnection> {
    const chain = [...opts.target.jumps, opts.target];
    const hops: SshConnection[] = [];
    let sock: Duplex | undefined;
    try {
      for (let i = 0; i < chain.length; i++) {
        const t = chain[i]!;
        const via = hops[hops.length - 1];
        const conn = await openOne(
          opts,
          t,
          sock,
          via ? describeAddress(via.target) : undefined,
          i === chain.length - 1 ? [...hops] : [],
        );
        const next = chain[i + 1];
        if (!next) return conn;
        hops.push(conn);
        sock = await conn.forward(next.host, next.port);
      }
    } catch (err) {
      for (const h of hops) h.close();
      throw err;
    }
    throw new Error('unreachable');
  }

  /** True once the connection ended. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Channels open now, and opens waiting for a free one. */
  channels(): { active: number; queued: number } {
    return { active: this.limiter.active, queued: this.limiter.queued };
  }

  /** Starts `command` on an exec channel (waiting for a free channel); the channel's close frees it. */
  async exec(command: string): Promise<ClientChannel> {
    const { ch, release } = await this.openSession<ClientChannel>('run a command', (cb) =>
      this.client.exec(command, cb),
    );
    ch.once('close', release);
    return ch;
  }

  /** Runs `command` to completion and collects its output (for short probes: versions, GPUs). */
  async run(command: string, timeoutMs = 30_000): Promise<CommandOutput> {
    const ch = await this.exec(command);
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      let signal: string | undefined;
      const timer = setTimeout(() => {
        ch.close();
        reject(
          new BackendError(
            this.backend,
            `\`${command}\` on ${describeAddress(this.target)} did not finish within ${timeoutMs / 1000} s`,
            true,
          ),
        );
      }, timeoutMs);
      ch.on('error', () => {}); // failures show as a missing exit code; the caller reads that
      ch.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      ch.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      ch.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = s;
      });
      // 'exit' can fire before we listen (a fast command's whole reply in one packet); 'close' repeats it.
      ch.once('close', (c?: number | null, s?: string) => {
        if (code === null && c !== undefined) {
          code = c;
          signal ??= s;
        }
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
      ch.end();
    });
  }

  /** Runs `fn` with an SFTP session (one channel, held until `fn` settles). */
  async sftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const { ch: session, release } = await this.openSession<SFTPWrapper>(
      'open SFTP (is `Subsystem sftp` enabled in sshd_config?)',
      (cb) => this.client.sftp(cb),
    );
    session.on('error', () => {}); // each call reports its own failure through its callback
    try {
      return await fn(session);
    } finally {
      session.end();
      release();
    }
  }

  /**
   * Opens a session channel within the limit. sshd frees a session slot a little after the
   * channel closes, so an open right after a close can still be refused ("open failed");
   * such refusals are retried briefly before they count as errors. The caller frees the slot.
   */
  private async openSession<T>(
    what: string,
    open: (cb: (err: Error | undefined, ch: T) => void) => void,
  ): Promise<{ ch: T; release: () => void }> {
    const release = await this.limiter.acquire();
    for (let attempt = 0; ; attempt++) {
      try {
        const ch = await new Promise<T>((resolve, reject) => {
          try {
            open((err, ch) => (err ? reject(err) : resolve(ch)));
          } catch (err) {
            reject(err as Error);
          }
        });
        return { ch, release };
      } catch (err) {
        if (!this.ended && attempt < SESSION_OPEN_RETRIES && /open failed$/.test((err as Error).message)) {
          await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
          continue;
        }
        release();
        throw this.channelError(err as Error, what);
      }
    }
  }

  /** A TCP stream to `host:port` as seen from this host (ProxyJump's `ssh -W`). */
  async forward(host: string, port: number): Promise<Duplex> {
    const release = await this.limiter.acquire();
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
        if (err) {
          release();
          return reject(
            new BackendError(
              this.backend,
              `jump host ${describeAddress(this.target)} cannot reach ${describeAddress({ host, port })}: ${err.message}; check the address and that the jump host's sshd allows TCP forwarding (AllowTcpForwarding)`,
              true,
            ),
          );
        }
        ch.once('close', release);
        resolve(ch);
      });
    });
  }

  /** Ends the connection (and its jump hosts); channels close with it. */
  close(reason = 'closed by Orrery'): void {
    if (this.ended) return;
    this.endReason = reason;
    this.client.end();
    // end() waits for the server's goodbye; a dead peer would keep the socket until keepalive gives up.
    setTimeout(() => this.client.destroy(), 2000).unref();
  }

  private channelError(err: Error, what: string): BackendError {
    if (this.ended)
      return new BackendError(
        this.backend,
        `cannot ${what} on ${describeAddress(this.target)}: the connection closed (${this.endReason})`,
        true,
      );
    const hint = /open failed$/.test(err.message)
      ? `; the server refuses more channels: its MaxSessions is below maxSessions (${this.limiter.limit}) in the backend config`
      : '';
    return new BackendError(
      this.backend,
      `cannot ${what} on ${describeAddress(this.target)}: ${err.message}${hint}`,
      true,
    );
  }
}

/** Connects one hop, translating every failure into one BackendError. */
async function openOne(
  opts: SshConnectOptions,
  t: SshTarget,
  sock: Duplex | undefined,
  via: string | undefined,
  hops: SshConnection[],
): Promise<SshConnection> {
  const auth = await planAuth(t, {
    backend: opts.backend,
    identityFile: opts.identityFile,
    passphrase: opts.passphrase,
    agentSocket: opts.agentSocket,
  });
  const knownHosts = KnownHosts.load(opts.knownHostsFile);
  const client = new ssh2.Client();
  let verdict: HostKeyVerdict | undefined;
  let hostKey = '';
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(translate(opts.backend, t, err, verdict, auth.tried, via));
    };
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      // Frames are small and latency-bound: Nagle's algorithm with delayed ACKs costs ~40 ms each.
      client.setNoDelay(true);
      resolve(new SshConnection(client, t, opts.backend, opts.maxSessions ?? DEFAULT_MAX_SESSIONS, hops, hostKey));
    });
    client.on('error', fail);
    client.once('close', () => fail(new Error('the connection closed during the handshake')));
    try {
      client.connect({
        host: t.host,
        port: t.port,
        sock,
        username: t.user,
        authHandler: auth.handler,
        hostVerifier: (key: Buffer) => {
          verdict = knownHosts.verify(t.host, t.port, key);
          hostKey = `${keyTypeOf(key)} ${fingerprint(key)}`;
          return verdict.ok;
        },
        keepaliveInterval: opts.keepaliveIntervalMs ?? 10_000,
        keepaliveCountMax: 3,
        readyTimeout: opts.readyTimeoutMs ?? 20_000,
      });
    } catch (err) {
      fail(err as Error);
    }
  });
}

/** One message per failure: host key, authentication, reachability, handshake. */
function translate(
  backend: string,
  t: SshTarget,
  err: Error & { level?: string; code?: string },
  verdict: HostKeyVerdict | undefined,
  tried: readonly string[],
  via: string | undefined,
): BackendError {
  const addr = describeAddress(t);
  const through = via ? ` through jump host ${via}` : '';
  if (verdict && !verdict.ok) return new BackendError(backend, verdict.message, false);
  if (err.level === 'client-authentication') {
    return new BackendError(
      backend,
      `${t.user}@${addr} refused every credential offered: ${tried.join(', ')}. ` +
        `Add the public key to ~${t.user}/.ssh/authorized_keys on the host (e.g. \`ssh-copy-id -i <key>.pub -p ${t.port} ${t.user}@${t.host}\`), check the user name, or set identityFile to a key the host accepts.`,
      false,
    );
  }
  if (err.level === 'client-timeout') {
    return new BackendError(
      backend,
      `no SSH handshake from ${addr}${through} within the timeout (${err.message}); check that the host is up and that the port is an SSH server`,
      true,
    );
  }
  if (err.level === 'client-dns' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new BackendError(
      backend,
      `cannot resolve host name ${t.host} (${err.code ?? err.message}); check the host string or its HostName in ~/.ssh/config`,
      true,
    );
  }
  if (err.code) {
    return new BackendError(
      backend,
      `cannot reach ${addr}${through}: ${err.message}. Check that the host is up, that sshd listens on port ${t.port}, and that no firewall blocks it`,
      true,
    );
  }
  if (verdict === undefined) {
    return new BackendError(
      backend,
      `${addr}${through} ended the connection before the SSH handshake (${err.message}); check that port ${t.port} is an SSH server and that its sshd accepts this client (MaxStartups, AllowUsers, a firewall)`,
      true,
    );
  }
  return new BackendError(backend, `SSH connection to ${addr}${through} failed: ${err.message}`, true);
}

/** How to retry. */
export interface BackoffOptions {
  /** First wait (ms); doubles after each failure. Default 1 s. */
  readonly initialDelayMs?: number;
  /** Longest wait between tries (ms). Default 30 s. */
  readonly maxDelayMs?: number;
  /** Checked before each try and after each wait; true stops the loop (it then rejects). */
  readonly stopped: () => boolean;
  /** Told about each failed try and the wait before the next. */
  readonly onRetry?: (err: BackendError, delayMs: number, attempt: number) => void;
}

/**
 * Calls `attempt` until it resolves. Retryable BackendErrors (host down, network) wait with
 * exponential backoff and jitter; the rest (host key, credentials) are rethrown at once, since
 * trying again cannot fix them and would only hammer the server.
 */
export async function connectWithBackoff<T>(attempt: () => Promise<T>, opts: BackoffOptions): Promise<T> {
  const max = opts.maxDelayMs ?? 30_000;
  let delay = opts.initialDelayMs ?? 1000;
  for (let n = 1; ; n++) {
    if (opts.stopped()) throw new Error('stopped');
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof BackendError) || !err.retryable) throw err;
      const wait = Math.min(max, delay) * (0.8 + Math.random() * 0.4);
      opts.onRetry?.(err, wait, n);
      await new Promise((r) => setTimeout(r, wait));
      delay = Math.min(max, delay * 2);
    }
  }
}
