/**
 * The options `orrery app` hands the Electron main process: `--example NAME` (a bundled example
 * to run once the head is up) and `--port N` (the port of a new head). Electron and Chromium put
 * their own switches into the same argv, so anything else is left alone.
 */

/** The app's options. */
export interface AppArgs {
  /** Port of a head the app starts (0: a free one). */
  readonly port: number;
  /** A bundled example to run against the head, if any. */
  readonly example?: string;
}

/** An option of the app is malformed. */
export class AppArgsError extends Error {
  override readonly name = 'AppArgsError';
}

/** An example's name: the bundled ones are lower-case words joined by dashes (vqe-h2, parameter-sweep). */
const EXAMPLE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Reads `--example NAME` and `--port N` (also `--name=value`) from the main process's argv. */
export function parseAppArgs(argv: readonly string[]): AppArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--(example|port)(?:=(.*))?$/.exec(arg);
    if (!m) continue;
    const name = m[1] as string;
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new AppArgsError(`--${name} needs a value`);
    values.set(name, value);
  }
  const portText = values.get('port') ?? '0';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new AppArgsError(`--port must be an integer from 0 to 65535 (got ${portText})`);
  const example = values.get('example');
  if (example !== undefined && !EXAMPLE_NAME.test(example))
    throw new AppArgsError(`--example must name a bundled example such as vqe-h2 (got ${JSON.stringify(example)})`);
  return example === undefined ? { port } : { port, example };
}
