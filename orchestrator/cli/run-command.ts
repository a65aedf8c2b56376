/**
 * `orrery run <script.ts> [args...]`: runs a driver script (TypeScript or JavaScript) with node as
 * an ES module (driver-loader.ts), whatever its folder's package.json says. With a head service
 * running, ORRERY_ADDRESS and ORRERY_TOKEN point the script's `init()` at it;
 * without one the script starts its own embedded head. The script's exit code is passed through.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { runningHead } from '../client/head-file.ts';
import { driverNodeFlags } from '../core/driver-loader.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery run`. */
export const RUN_USAGE = `usage: orrery run <script.ts> [--session NAME] [args...]

Runs the script (.ts or .js) with node as an ES module: top-level await works without
"type": "module". When a head is running (orrery start), the script's init() connects to it (ORRERY_ADDRESS and ORRERY_TOKEN are set); otherwise it starts an
embedded head. Arguments after the script (and its --session) go to the script; the exit
code is the script's.`;

/** Runs the script; resolves with its exit code. */
export async function runCommand(args: string[], opts: CliOptions): Promise<number> {
  const [script, ...rest] = args;
  if (!script) throw new Error('orrery run needs a script: orrery run <script.ts> [args...]');
  const path = resolve(script);
  if (!existsSync(path)) throw new Error(`script ${script} does not exist`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!env.ORRERY_ADDRESS) {
    const head = runningHead();
    if (head) {
      env.ORRERY_ADDRESS = head.address;
      env.ORRERY_TOKEN ??= head.token;
    }
  }
  if (typeof opts.session === 'string') env.ORRERY_SESSION = opts.session;
  const child = spawn(process.execPath, [...driverNodeFlags(), path, ...rest], { stdio: 'inherit', env });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise<number>((done, fail) => {
    child.once('error', (err) => fail(new Error(`cannot run ${script}: ${err.message}`)));
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(code ?? 128 + (signal ? constants.signals[signal] : 1));
    });
  });
}
