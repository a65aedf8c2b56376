/** Errors of the head service itself (`orrery start`); those of reaching it are client/client-errors.ts. */
import { OrreryError } from '../core/errors.ts';

/** `orrery start` while another head service runs. */
export class HeadAlreadyRunningError extends OrreryError {
  constructor(
    readonly pid: number,
    readonly address: string,
  ) {
    super(
      `a head is already running (pid ${pid}) at ${address}; stop it with \`orrery stop\` or connect to it with init({ address: 'auto' })`,
    );
  }
}
