/**
 * Errors of the session store. One class per condition; each names the file involved and says
 * what to do. Recorder write failures are not thrown into the head: they reach `onError`.
 */
import { basename } from 'node:path';
import { OrreryError } from '../core/errors.ts';

/** Base class of every session error; `file` is the path the error is about. */
export class SessionError extends OrreryError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** No session of that name exists in the sessions directory. */
export class SessionNotFoundError extends SessionError {
  constructor(
    readonly sessionName: string,
    file: string,
  ) {
    super(
      file,
      `session "${sessionName}" not found (no ${file}); run \`orrery sessions list\` to see the sessions there are.`,
    );
  }
}

/** A new session was asked for under a name that is taken. */
export class SessionExistsError extends SessionError {
  constructor(
    readonly sessionName: string,
    file: string,
  ) {
    super(
      file,
      `session "${sessionName}" already exists (${file}); pick another name, pass { resume: true } to continue it, or delete it with \`orrery sessions delete ${sessionName}\`.`,
    );
  }
}

/** The file is not an SQLite database at all (random bytes, truncated, damaged). */
export class SessionUnreadableError extends SessionError {
  constructor(
    file: string,
    readonly detail: string,
  ) {
    super(
      file,
      `${file} is not a readable Orrery session (${detail}); it was left untouched. Move it out of the sessions directory, or delete it with \`orrery sessions delete ${basename(file).replace(/\.db$/, '')}\` if it is not needed.`,
    );
  }
}

/** The file is an SQLite database, but not one Orrery made (different application_id or tables). */
export class SessionForeignFileError extends SessionError {
  constructor(
    file: string,
    readonly applicationId: number,
  ) {
    super(
      file,
      `${file} is an SQLite database that Orrery did not make (application_id ${applicationId}); it was left untouched. Move it out of the sessions directory or give the session another name.`,
    );
  }
}

/** The session was written by a newer Orrery whose schema this version does not know. */
export class SessionSchemaTooNewError extends SessionError {
  constructor(
    file: string,
    readonly foundVersion: number,
    readonly supportedVersion: number,
  ) {
    super(
      file,
      `${file} was made by a newer Orrery (session schema v${foundVersion}; this Orrery knows up to v${supportedVersion}); upgrade Orrery to open it.`,
    );
  }
}

/** A live head is recording the session, so it cannot be deleted or recorded a second time. */
export class SessionInUseError extends SessionError {
  constructor(
    readonly sessionName: string,
    file: string,
    readonly pid: number,
    readonly hostname: string,
  ) {
    super(
      file,
      `session "${sessionName}" is being recorded by a running head (pid ${pid} on ${hostname}); stop that head first (\`orrery stop\`).`,
    );
  }
}

/** A write failed because the disk (or the session's size cap) is full. Reported through `onError`. */
export class SessionDiskFullError extends SessionError {
  constructor(
    file: string,
    readonly detail: string,
  ) {
    super(
      file,
      `session storage is full writing ${file} (${detail}); later records are dropped until space is freed. Free disk space, or raise the session's maxDbBytes.`,
    );
  }
}

/** Any other write failure of the recorder. Reported through `onError`. */
export class SessionWriteError extends SessionError {
  constructor(
    file: string,
    readonly detail: string,
  ) {
    super(
      file,
      `could not write session data to ${file}: ${detail}; the head keeps running but this record was dropped.`,
    );
  }
}

/** Config keys that look like secret values were stripped before recording. Reported through `onError`. */
export class SecretInConfigError extends SessionError {
  constructor(
    file: string,
    readonly keyPaths: readonly string[],
  ) {
    super(
      file,
      `config keys ${keyPaths.join(', ')} look like secret values and were not recorded in ${file}; store secrets in the keychain (\`orrery secrets set <name>\`) and refer to them by a key ending in "Secret".`,
    );
  }
}

/** A stored result names a file the reader will not open: not a plain name inside the session's results folder, or a symlink. */
export class SessionUnsafeFileError extends SessionError {
  constructor(
    file: string,
    readonly taskId: string,
    readonly resultFile: string,
    readonly reason: string,
  ) {
    super(
      file,
      `the result of task ${taskId} in ${file} names the file ${JSON.stringify(resultFile)}, which was not read: ${reason}. The session database was changed by something other than Orrery; re-run the task, or delete the session.`,
    );
  }
}
