/** `orrery backends list|test|clean <name>`: what is configured, an end-to-end check of one backend, and cleaning its hosts. */
import { createBackend } from '../head/backend-registry.ts';
import { Head } from '../head/head.ts';
import { init, shutdown } from '../api/init.ts';
import { remote } from '../api/remote.ts';
import { get } from '../api/objects.ts';
import { nodes } from '../api/introspection.ts';
import { findConfig } from '../head/config-file.ts';

/** Prints the configured backends. */
export function listBackends(configPath: string | undefined, print: (line: string) => void): void {
  const cfg = findConfig(configPath);
  print(`config: ${cfg.path ?? '(none found; the local backend is always there)'}`);
  print('local  (kind local, built in)');
  for (const b of cfg.backends) print(`${String(b.name)}  (kind ${String(b.kind)})`);
}

/** The named backend's config from the config file (or the built-in local one); throws naming what is configured. */
function configOf(name: string, configPath: string | undefined) {
  const cfg = findConfig(configPath);
  const config = name === 'local' ? { name: 'local', kind: 'local' } : cfg.backends.find((b) => b.name === name);
  if (!config)
    throw new Error(
      `no backend named ${name} in ${cfg.path ?? 'any config file'}; configured: local${cfg.backends.map((b) => `, ${String(b.name)}`).join('')}`,
    );
  return { cfg, config };
}

/**
 * Removes what the named backend keeps on its hosts and no longer uses (agent bundles, Node
 * runtimes, environments, working folders unused for `olderThanDays`), printing what went.
 */
export async function cleanBackend(
  name: string,
  configPath: string | undefined,
  olderThanDays: number,
  print: (line: string) => void,
): Promise<void> {
  const { cfg, config } = configOf(name, configPath);
  const backend = await createBackend(config, cfg.modules);
  if (!backend.clean)
    throw new Error(`backend ${name} (kind ${backend.kind}) keeps nothing on remote hosts; there is nothing to clean`);
  for (const line of await backend.clean({ olderThanDays })) print(line);
}

/**
 * Starts the named backend alone behind a temporary head, prints what its own check found and
 * what each of its nodes offers, and runs a probe task on it. Throws with what is wrong.
 */
export async function testBackend(
  name: string,
  configPath: string | undefined,
  print: (line: string) => void,
): Promise<void> {
  const { cfg, config } = configOf(name, configPath);
  const backend = await createBackend(config, cfg.modules);
  if (backend.check) for (const line of await backend.check()) print(`✓ ${line}`);
  const head = new Head({ log: (l) => print(l) });
  try {
    await head.addBackend(backend);
    await init({ cluster: { head }, logToDriver: false });
    const live = (await nodes()).filter((n) => n.state === 'ALIVE');
    if (live.length === 0)
      throw new Error(
        `backend ${name} started but brought up no node (an elastic backend adds nodes on demand; submit work to see it scale)`,
      );
    for (const n of live)
      print(`✓ node ${String(n.nodeId)}: resources ${JSON.stringify(n.resources)}, labels ${JSON.stringify(n.labels)}`);
    const probe = remote({ backend: name, numCpus: 0 }, async () => {
      const os = await import('node:os');
      return { host: os.hostname(), node: process.version, cpus: os.availableParallelism() };
    });
    const r = await get(probe.remote());
    print(`✓ probe task ran on ${r.host} (node ${r.node}, ${r.cpus} CPUs)`);
  } finally {
    await shutdown();
    await head.shutdown();
  }
}
