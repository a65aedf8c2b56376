/**
 * The head as files for a host that has no Orrery (`orrery start --on`): the `orrery` command,
 * the agent and worker entries and the public API as the package `orrery-compute`, bundled by
 * esbuild from the sources this process runs, plus the built dashboard and the one native addon
 * the head needs (better-sqlite3, for sessions), copied from this machine's node_modules. The
 * content hash names the folder on the host (`~/.orrery/heads/<hash>/`), so a second start
 * uploads nothing.
 *
 * Every entry and chunk lands in one folder, `orchestrator/agent/`: the head finds the agent,
 * the worker pool its worker and the driver loader its hooks as siblings of their own module
 * (`new URL('./worker-main.mjs', import.meta.url)`), and in a bundle their own module is a chunk.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { packageRoot } from '../core/package-root.ts';
import { agentBundle, PREBUILT_AGENT_DIR, PREBUILT_AGENT_HASH } from '../../backends/transport/ssh/agent-bundle.ts';

/** The bundle: relative file paths and their bytes, and the hash of all of them. */
export interface HeadBundle {
  /** 24 hex digits of the SHA-256 over every path and content: the remote folder's name. */
  readonly hash: string;
  readonly files: ReadonlyMap<string, Buffer>;
  /** `linux-x64`: the platform the native addon in it was built for. */
  readonly platform: string;
  /** `process.versions.modules` of this Node: the addon runs only on a Node of the same ABI. */
  readonly abi: string;
}

/** The `orrery` command in the bundle, relative to its folder. */
export const HEAD_CLI_FILE = 'orchestrator/agent/orrery.mjs';

const ext = extname(fileURLToPath(import.meta.url));
const source = (path: string): string => fileURLToPath(new URL(`../${path}${ext}`, import.meta.url));

/**
 * Packages that cannot travel in a bundle (native binaries, a keychain) and that a remote head
 * does without: each becomes a stub that loads harmlessly and throws, naming itself, when used.
 * (Its ssh and Slurm backends need no esbuild: the agent bundle travels prebuilt, see below.)
 */
const STUBBED = ['esbuild', '@napi-rs/keyring', 'cpu-features', 'electron'];

/** Shipped as files from node_modules: better-sqlite3 and what it requires at run time. */
const SHIPPED_PACKAGES = ['better-sqlite3', 'bindings', 'file-uri-to-path'];

const stubs: Plugin = {
  name: 'orrery-remote-head-stubs',
  setup(b) {
    const filter = new RegExp(`^(${STUBBED.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})(/.*)?$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({
      loader: 'js',
      contents: `module.exports = new Proxy({}, { get(_, key) {
        if (typeof key === 'symbol' || key === '__esModule' || key === 'then') return undefined;
        throw new Error(${JSON.stringify(`${args.path} is not available to a head started with orrery start --on (it needs files built for this laptop); run such a head with orrery start on that host instead`)});
      } });`,
    }));
    // ssh2's optional native crypto: left out, so its require fails and ssh2 uses its JavaScript code.
    b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
  },
};

let cached: Promise<HeadBundle> | undefined;

/** The bundle for this Orrery (built once per process; a failed build is retried on the next call). */
export function headBundle(): Promise<HeadBundle> {
  cached ??= buildHeadBundle().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function buildHeadBundle(): Promise<HeadBundle> {
  const outdir = '/orrery-head';
  const result = await build({
    entryPoints: [
      { in: source('cli/main'), out: 'orchestrator/agent/orrery' },
      { in: source('agent/agent-main'), out: 'orchestrator/agent/agent-main' },
      { in: source('agent/worker-main'), out: 'orchestrator/agent/worker-main' },
      { in: source('core/driver-loader-hooks'), out: 'orchestrator/agent/driver-loader-hooks' },
      { in: source('api/index'), out: 'node_modules/orrery-compute/index' },
      { in: source('api/command-container'), out: 'node_modules/orrery-compute/internal/command-container' },
    ],
    outdir,
    external: ['orrery-compute', 'orrery-compute/*', 'better-sqlite3'],
    plugins: [stubs],
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    outExtension: { '.js': '.mjs' },
    // CommonJS packages bundled into ES modules call require() for Node built-ins and read __dirname.
    banner: {
      js: [
        "import { createRequire as __orreryRequire } from 'node:module';",
        "import { fileURLToPath as __orreryPath } from 'node:url';",
        'const require = __orreryRequire(import.meta.url);',
        'const __filename = __orreryPath(import.meta.url);',
        "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
      ].join(' '),
    },
    bundle: true,
    splitting: true,
    chunkNames: 'orchestrator/agent/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    keepNames: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
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
  // Its ssh and Slurm backends ship agents to their hosts: the agent bundle travels prebuilt (no esbuild there).
  const agent = await agentBundle();
  for (const [path, data] of agent.files) files.set(`${PREBUILT_AGENT_DIR}/${path}`, data);
  files.set(`${PREBUILT_AGENT_DIR}/${PREBUILT_AGENT_HASH}`, Buffer.from(agent.hash));
  // The root's manifest: packageRoot() of the bundled code stops here, and finds renderer/dist below it.
  files.set('package.json', Buffer.from(`${JSON.stringify({ name: 'orrery-compute', type: 'module' })}\n`));
  addTree(files, join(packageRoot(), 'renderer', 'dist'), 'renderer/dist');
  const require = createRequire(import.meta.url);
  for (const name of SHIPPED_PACKAGES) {
    const dir = dirname(require.resolve(`${name}/package.json`, { paths: [packageRoot()] }));
    addTree(files, dir, `node_modules/${name}`, (rel) => name !== 'better-sqlite3' || keepSqliteFile(rel));
  }
  const h = createHash('sha256');
  for (const [path, data] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
    h.update(path).update('\0').update(data).update('\0');
  return {
    hash: h.digest('hex').slice(0, 24),
    files,
    platform: `${process.platform}-${process.arch}`,
    abi: process.versions.modules,
  };
}

/** Of better-sqlite3, only what runs: its manifest, lib/ and the built addon (not sources or build objects). */
function keepSqliteFile(rel: string): boolean {
  return rel === 'package.json' || rel.startsWith('lib/') || rel === 'build/Release/better_sqlite3.node';
}

/** Adds the files under `dir` (if it exists) as `prefix/<relative path>`. */
function addTree(files: Map<string, Buffer>, dir: string, prefix: string, keep: (rel: string) => boolean = () => true) {
  if (!existsSync(dir)) return;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const rel = relative(dir, path).split('\\').join('/');
      if (statSync(path).isDirectory()) walk(path);
      else if (keep(rel)) files.set(`${prefix}/${rel}`, readFileSync(path));
    }
  };
  walk(dir);
}
