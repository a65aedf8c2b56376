// Builds shm_map.node for this platform with the C compiler and Node's own headers (no
// node-gyp, no download): `node native/shm-map/build.mjs`. Run by `npm run build`; a machine
// without a compiler or on another OS gets no binary and Orrery falls back to plain file reads.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', `${process.platform}-${process.arch}`, 'shm_map.node');
const include = join(process.execPath, '..', '..', 'include', 'node');
if (process.platform !== 'linux') {
  console.log(`shm-map: not built on ${process.platform} (Linux only); objects use plain file reads`);
} else if (!existsSync(join(include, 'node_api.h'))) {
  console.log(`shm-map: no Node headers at ${include}; objects use plain file reads`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  try {
    execFileSync(
      process.env.CC ?? 'cc',
      ['-O2', '-shared', '-fPIC', '-Wall', `-I${include}`, '-o', out, join(here, 'shm_map.c')],
      {
        stdio: 'inherit',
      },
    );
    console.log(`shm-map: built ${out}`);
  } catch {
    console.log('shm-map: the C compiler failed; objects use plain file reads');
  }
}
