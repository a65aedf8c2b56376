/**
 * `orrery sessions pull <name>`: copies a session of a head on another machine (`orrery start
 * --on`) here, into ~/.orrery/sessions, where `orrery sessions show` and the dashboard read it.
 * The host is `--on`, else the one this machine's tunnel leads to, else the config's `head`.
 */
import { readHeadFile } from '../client/head-file.ts';
import { findConfig } from '../head/config-file.ts';
import { fromLoginRecord, headHostConfig } from '../remote-head/head-host-config.ts';
import { RemoteHeadHost } from '../remote-head/remote-head.ts';
import { pullSession } from '../remote-head/session-pull.ts';
import type { CliOptions } from './command-line.ts';

/** Help line of `sessions pull`. */
export const SESSIONS_PULL_USAGE = `       orrery sessions pull <name> [--on <ssh host>] [--config FILE]
                                                   copy a session of a head started with orrery start --on
                                                   (database snapshot + result files) here`;

/** Pulls one session; prints where it went. */
export async function sessionsPullCommand(
  name: string | undefined,
  opts: CliOptions,
  print: (line: string) => void,
): Promise<number> {
  if (!name) throw new Error('sessions pull needs a session name: orrery sessions pull <name>');
  const on = typeof opts.on === 'string' ? opts.on : undefined;
  const tunnel = readHeadFile()?.remote;
  const config =
    on === undefined && opts.config === undefined && tunnel
      ? fromLoginRecord(tunnel.login)
      : (() => {
          const cfg = findConfig(typeof opts.config === 'string' ? opts.config : undefined);
          return headHostConfig(on, cfg.head, `config file ${cfg.path ?? '(none)'}`);
        })();
  const host = await RemoteHeadHost.connect(config);
  try {
    const t0 = Date.now();
    const pulled = await pullSession(host, name);
    print(
      `pulled session ${name} from ${host.where} to ${pulled.db} (${(pulled.bytes / 1024).toFixed(0)} KiB in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return 0;
  } finally {
    host.close();
  }
}
