/**
 * The agent as a few self-contained files for hosts that have Node but not Orrery: the agent
 * and worker entries bundled with everything they import, plus the public API as a package
 * `orrery-compute` in a node_modules beside them, so that `await import('orrery-compute')` in a task (resolved
 * relative to the worker file) finds it. Built with esbuild at first use in this process, from
 * the same sources the head runs (TypeScript under tsx, JavaScript from dist), so the remote
 * agent always matches the head; the content hash names the remote directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { packageRoot } from '../../../orchestrator/core/package-root.ts';

/** The bundle: relative file paths and their bytes, and the hash of all of them. */
export interface AgentBundle {
  /** 24 hex digits of the SHA-256 over every path and content: the remote directory's name. */
  readonly hash: string;
  /** `agent-main.mjs`, `worker-main.mjs`, `node_modules/orrery-compute/{index,internal/command-container}.mjs` and `package.json`, and the `chunk-*.mjs` they share. */
  readonly files: ReadonlyMap<string, Buffer>;
}

/** The agent entry file of a bundle, relative to its directory. */
export const AGENT_ENTRY_FILE = 'agent-main.mjs';

const here = fileURLToPath(import.meta.url);
const ext = extname(here);
const source = (path: string): string => fileURLToPath(new URL(`../../../orchestrator/${path}${ext}`, import.meta.url));

/**
 * Packages only the head uses (connecting to hosts, bundling, the keychain) that cannot travel:
 * native addons built for this machine, or tools that spawn their own binary. The API reaches
 * them through the backend registry, so they are in the agent's import graph; in the bundle
 * each becomes a stub that throws, naming itself, if a task ever uses it.
 */
export const HEAD_ONLY_PACKAGES: readonly string[] = [
  'ssh2',
  'esbuild',
  '@napi-rs/keyring',
  'cpu-features',
  'better-sqlite3',
  '@aws-sdk',
  '@smithy',
  'ws',
];

const headOnlyStubs: Plugin = {
  name: 'orrery-head-only-stubs',
  setup(b) {
    const filter = new RegExp(`^(${HEAD_ONLY_PACKAGES.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})(/.*)?$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'head-only' }));
    // CommonJS, so that any named import binds; a Proxy, so that loading is harmless and only use throws.
    b.onLoad({ filter: /.*/, namespace: 'head-only' }, (args) => ({
      loader: 'js',
      contents: `module.exports = new Proxy({}, { get(_, key) {
        if (typeof key === 'symbol' || key === '__esModule' || key === 'then') return undefined;
        throw new Error(${JSON.stringify(`${args.path} is not available on remote nodes: it is used by the head only (backends, bundling, the keychain)`)});
      } });`,
    }));
  },
};

let cached: Promise<AgentBundle> | undefined;

/**
 * The bundle for this Orrery: the prebuilt one a head started with `orrery start --on` carries
 * (there is no esbuild on its host), else built once per process (a failed build is retried on
 * the next call).
 */
export function agentBundle(): Promise<AgentBundle> {
  cached ??= (async () => prebuiltAgentBundle() ?? (await buildAgentBundle()))().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

/** Where a head bundle keeps its agent bundle, relative to the package root (orchestrator/remote-head/head-bundle.ts). */
export const PREBUILT_AGENT_DIR = 'agent-bundle';
/** The file in that folder holding the bundle's hash. */
export const PREBUILT_AGENT_HASH = '.hash';

/** The agent bundle shipped inside this package's files, if it has one. */
function prebuiltAgentBundle(): AgentBundle | undefined {
  const dir = join(packageRoot(), PREBUILT_AGENT_DIR);
  if (!existsSync(join(dir, PREBUILT_AGENT_HASH))) return undefined;
  const files = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name !== PREBUILT_AGENT_HASH)
        files.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
    }
  };
  walk(dir);
  return { hash: readFileSync(join(dir, PREBUILT_AGENT_HASH), 'utf8').trim(), files };
}

/** Builds the bundle in memory. */
export async function buildAgentBundle(): Promise<AgentBundle> {
  const outdir = '/orrery-agent';
  const result = await build({
    entryPoints: [
      { in: source('agent/agent-main'), out: 'agent-main' },
      // worker-pool spawns `./worker-main<ext>` next to the agent file, so the name and place are fixed.
      { in: source('agent/worker-main'), out: 'worker-main' },
      { in: source('api/index'), out: 'node_modules/orrery-compute/index' },
      // The container side of command tasks, which the shipped command runner imports by this name.
      { in: source('api/command-container'), out: 'node_modules/orrery-compute/internal/command-container' },
    ],
    outdir,
    // Shipped task code (command-runner among it) imports 'orrery-compute' at run time; tsconfig paths
    // would otherwise inline it. Kept external, it resolves to node_modules/orrery-compute beside the file.
    external: ['orrery-compute', 'orrery-compute/*'],
    plugins: [headOnlyStubs],
    // jsonc-parser's `main` is a UMD build whose require() calls esbuild cannot follow: bundle its ES module build.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Shared modules go to chunks that every entry imports, so the worker and the `orrery-compute`
    // package a task imports share one copy of each module (as in the source tree): an error
    // class thrown by API code is then the class the worker's executor knows.
    // Chunks sit beside the entries: worker-pool finds `./worker-main.mjs` relative to its own file.
    splitting: true,
    chunkNames: '[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Names matter: errors are rebuilt by class name on the other side, and tasks print them.
    keepNames: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  });
  // An ESM bundle has no `require`: esbuild turns a require() of anything it did not bundle
  // (a Node built-in, say) into a shim that throws when called. Fail here, naming the module,
  // rather than on a remote host in the middle of a task.
  for (const [input, info] of Object.entries(result.metafile.inputs)) {
    const bad = info.imports.find((i) => i.external && (i.kind === 'require-call' || i.kind === 'require-resolve'));
    if (bad)
      throw new Error(
        `agent bundle: ${input} calls require('${bad.path}'), which fails in an ES module bundle; import it instead, or add its package to HEAD_ONLY_PACKAGES if only the head uses it`,
      );
  }
  const files = new Map<string, Buffer>();
  for (const f of result.outputFiles)
    files.set(relative(outdir, f.path).split('\\').join('/'), Buffer.from(f.contents));
  const pkg = {
    name: 'orrery-compute',
    type: 'module',
    main: './index.mjs',
    exports: { '.': './index.mjs', './internal/command-container': './internal/command-container.mjs' },
  };
  files.set('node_modules/orrery-compute/package.json', Buffer.from(`${JSON.stringify(pkg, null, 2)}\n`));
  const h = createHash('sha256');
  for (const [path, data] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
    h.update(path).update('\0').update(data).update('\0');
  return { hash: h.digest('hex').slice(0, 24), files };
}
