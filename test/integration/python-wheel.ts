/**
 * A pure-Python wheel written by the test itself (a zip with the module and its dist-info:
 * METADATA, WHEEL, RECORD), so pip installs it with no index and no network.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `<dir>/<name>-1.0-py3-none-any.whl` whose module sets X = `value` (readable by every user); returns its path. */
export function writeWheel(dir: string, name: string, value: string): string {
  const path = join(dir, `${name}-1.0-py3-none-any.whl`);
  const script = `
import sys, zipfile, hashlib, base64
path, name, value = sys.argv[1:4]
files = {f"{name}/__init__.py": f"X = {value!r}\\n",
         f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n",
         f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: orrery-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
def rec(data):
    d = base64.urlsafe_b64encode(hashlib.sha256(data.encode()).digest()).rstrip(b"=").decode()
    return f"sha256={d},{len(data.encode())}"
record = "".join(f"{p},{rec(c)}\\n" for p, c in files.items()) + f"{name}-1.0.dist-info/RECORD,,\\n"
with zipfile.ZipFile(path, "w") as z:
    for p, c in files.items(): z.writestr(p, c)
    z.writestr(f"{name}-1.0.dist-info/RECORD", record)
`;
  execFileSync('python3', ['-c', script, path, name, value]);
  chmodSync(path, 0o644);
  return path;
}
