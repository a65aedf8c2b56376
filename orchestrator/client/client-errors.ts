/** Errors of reaching a head service from another process: a client-mode driver or the CLI. */
import { OrreryError } from '../core/errors.ts';

/** No head service recorded in head.json (or its process is gone). */
export class NoHeadRunningError extends OrreryError {
  constructor(readonly headFile: string) {
    super(`no head is running (no live head in ${headFile}); start one with \`orrery start\``);
  }
}

/** Nothing answers at the address. */
export class HeadUnreachableError extends OrreryError {
  constructor(
    readonly address: string,
    readonly why: string,
  ) {
    super(`no Orrery head at ${address}: ${why}; start one with \`orrery start\``);
  }
}

/** The head answered 401: the token is missing or wrong. */
export class HeadAuthError extends OrreryError {
  constructor(
    readonly address: string,
    readonly status: number,
  ) {
    super(
      `the head refused the token (${status}) at ${address}: give the token the head wrote to its head.json (init({ token }) or ORRERY_TOKEN)`,
    );
  }
}

/** A client mode address or option that cannot work. */
export class ClientOptionError extends OrreryError {}

/** Raised by requests made after the connection to the head was lost. */
export class HeadConnectionLostError extends OrreryError {
  constructor(
    readonly address: string,
    readonly why: string,
  ) {
    super(
      `lost the connection to the head at ${address}${why ? ` (${why})` : ''}; check that the head still runs (orrery status) and init() again`,
    );
  }
}

/** A driver request larger than the head accepts in one message (protocol/driver-socket.ts MAX_DRIVER_MESSAGE_BYTES). */
export class DriverMessageTooLargeError extends OrreryError {
  constructor(
    readonly op: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `this ${op} request holds ${bytes} bytes of data (${mib(bytes)}), over the head's limit of ${limitBytes} bytes (${mib(limitBytes)}) for one driver message; split the data into smaller pieces (several put() calls or tasks), or write it to a file the tasks read`,
    );
  }
}

function mib(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}
