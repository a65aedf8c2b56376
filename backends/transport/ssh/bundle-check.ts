/**
 * Checks an agent bundle already on a host before it runs: its folder is named by the bundle's
 * hash, but a name proves nothing, so every file's content is hashed there (by the host's own
 * Node) and compared with the bundle, and the folder, its parents up to `~/.orrery` and its files
 * must be this user's and writable by no one else. A bundle that fails is replaced, never run.
 */
import { createHash } from 'node:crypto';
import type { AgentBundle } from './agent-bundle.ts';
import type { SshConnection } from './connection.ts';
import { shellCommand, shellPath } from '../shell-quote.ts';

/** Runs on the host with `node -e`: prints `{ files: { path: sha256 }, unsafe: [why] }` for the folder in argv[1]. */
const SCRIPT = `const fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const dir = process.argv[1], uid = process.getuid(), out = { files: {}, unsafe: [] };
const owned = (rel, st) => {
  if (st.uid !== uid) out.unsafe.push(rel + ' belongs to uid ' + st.uid);
  else if (st.mode & 0o022) out.unsafe.push(rel + ' is writable by group or others');
};
const walk = (d, rel) => {
  const st = fs.lstatSync(d);
  if (!st.isDirectory()) return void out.unsafe.push(rel + ' is not a folder');
  owned(rel, st);
  for (const name of fs.readdirSync(d)) {
    const p = path.join(d, name), r = rel === '.' ? name : rel + '/' + name, s = fs.lstatSync(p);
    if (s.isDirectory()) walk(p, r);
    else if (!s.isFile()) out.unsafe.push(r + ' is not a regular file');
    else {
      owned(r, s);
      out.files[r] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  }
};
try {
  for (const p of [path.dirname(path.dirname(dir)), path.dirname(dir)]) owned(p, fs.lstatSync(p));
  walk(dir, '.');
} catch (e) {
  out.unsafe.push(e.message);
}
process.stdout.write(JSON.stringify(out));`;

const digests = new WeakMap<AgentBundle, Map<string, string>>();

function digestsOf(bundle: AgentBundle): Map<string, string> {
  let d = digests.get(bundle);
  if (!d) {
    d = new Map([...bundle.files].map(([path, data]) => [path, createHash('sha256').update(data).digest('hex')]));
    digests.set(bundle, d);
  }
  return d;
}

/** Checks the bundle folder `dir` on the host; resolves with why it cannot be trusted, or undefined when it matches. */
export async function bundleMismatch(
  conn: SshConnection,
  nodePath: string,
  dir: string,
  bundle: AgentBundle,
): Promise<string | undefined> {
  const out = await conn.run(`${shellPath(nodePath)} ${shellCommand(['-e', SCRIPT, dir])}`);
  let found: { files: Record<string, string>; unsafe: string[] };
  try {
    found = JSON.parse(out.stdout) as typeof found;
  } catch {
    return `it could not be checked (${(out.stderr.trim() || `exit code ${out.code}`).split('\n')[0]})`;
  }
  if (found.unsafe.length > 0) return found.unsafe.slice(0, 3).join('; ');
  const expected = digestsOf(bundle);
  const wrong: string[] = [];
  for (const [path, sha] of expected)
    if (found.files[path] !== sha) wrong.push(found.files[path] ? `${path} was changed` : `${path} is missing`);
  for (const path of Object.keys(found.files)) if (!expected.has(path)) wrong.push(`${path} does not belong to it`);
  return wrong.length > 0 ? wrong.slice(0, 3).join('; ') : undefined;
}
