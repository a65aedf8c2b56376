/** What can go wrong with a head on another machine (`orrery start --on`): one class per condition. */
import { OrreryError } from '../core/errors.ts';

/** The head host cannot be logged in to: unreachable, a refused key, an unknown host key. `reason` says which and what to do. */
export class HeadHostLoginError extends OrreryError {
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`cannot log in to the head host ${host}: ${reason}`);
  }
}

/** `orrery start --on` asked for a new head (a session, a config) while one already runs there. */
export class RemoteHeadRunningError extends OrreryError {
  constructor(
    readonly where: string,
    readonly pid: number,
    readonly session: string | undefined,
    readonly asked: string,
  ) {
    super(
      `a head already runs on ${where} (pid ${pid}${session ? `, session ${session}` : ''}), so ${asked} cannot start another; run orrery start --on without --session/--resume to reopen the tunnel to it, or orrery stop to stop it first`,
    );
  }
}

/** A tunnel to this head is already open on this machine (another `orrery start --on` holds it). */
export class TunnelAlreadyOpenError extends OrreryError {
  constructor(
    readonly where: string,
    readonly pid: number,
    readonly url: string,
  ) {
    super(
      `a tunnel to the head on ${where} is already open here (process ${pid}, ${url}); use it, or end that process (Ctrl-C there, or kill ${pid}) before opening another`,
    );
  }
}

/** The head process on the host did not come up; `logTail` is the end of its log there. */
export class RemoteHeadStartError extends OrreryError {
  constructor(
    readonly where: string,
    readonly log: string,
    readonly logTail: string,
  ) {
    super(`the head on ${where} did not start: ${logTail || 'it wrote nothing'} (its log: ${where}:${log})`);
  }
}

/** The host cannot run the head this laptop ships (its SQLite addon is built for this laptop's platform and Node). */
export class RemoteHeadPlatformError extends OrreryError {
  constructor(
    readonly where: string,
    readonly hostPlatform: string,
    readonly bundlePlatform: string,
  ) {
    super(
      `${where} is ${hostPlatform}, but the head Orrery ships from here carries an SQLite addon built for ${bundlePlatform}; run orrery start --on from a ${hostPlatform} machine, or install orrery-compute on ${where} and run orrery start there`,
    );
  }
}

/** No head host was named: neither `--on` nor the config's `head.host`. */
export class HeadHostConfigError extends OrreryError {}
