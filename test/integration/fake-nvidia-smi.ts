/**
 * A stand-in `nvidia-smi` for tests on machines without a GPU: it prints what driver 535 prints
 * for `--query-gpu=<fields> --format=csv,noheader,nounits` on a node with two NVIDIA H100 80GB
 * HBM3 (37 % and 63 % busy, 20,480 and 40,960 MiB of 81,559 MiB used), and refuses other
 * arguments as the real tool does. Agents started after {@link installFakeNvidiaSmi} find it first on PATH.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = `#!/bin/sh
# nvidia-smi of driver 535 on a node with two NVIDIA H100 80GB HBM3, for --query-gpu only.
q=''; f=''
for a in "$@"; do
  case "$a" in
    --query-gpu=*) q=\${a#--query-gpu=} ;;
    --format=*) f=\${a#--format=} ;;
    *) echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help." >&2; exit 2 ;;
  esac
done
[ -n "$q" ] || { echo "this stand-in answers only --query-gpu" >&2; exit 2; }
case "$f" in csv,noheader,nounits) ;; *) echo "this stand-in answers only --format=csv,noheader,nounits" >&2; exit 2 ;; esac
for i in 0 1; do
  line=''
  for field in $(printf '%s' "$q" | tr ',' ' '); do
    case "$field" in
      name) v='NVIDIA H100 80GB HBM3' ;;
      memory.total) v=81559 ;;
      memory.used) if [ $i = 0 ]; then v=20480; else v=40960; fi ;;
      utilization.gpu) if [ $i = 0 ]; then v=37; else v=63; fi ;;
      *) echo "Field \\"$field\\" is not a valid field to query."; exit 2 ;;
    esac
    line="\${line:+$line, }$v"
  done
  echo "$line"
done
`;

/** What the stand-in reports, for assertions. */
export const FAKE_GPUS = { count: 2, utilPercent: [37, 63], memUsedMb: [20480, 40960], memTotalMb: 81559 } as const;

/** Writes the stand-in into `<dir>/fake-bin` (0700) and puts that folder first on this process's PATH (agents inherit it). */
export function installFakeNvidiaSmi(dir: string): string {
  const bin = join(dir, 'fake-bin');
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  writeFileSync(join(bin, 'nvidia-smi'), SCRIPT, { mode: 0o700 });
  process.env.PATH = `${bin}:${process.env.PATH}`;
  return bin;
}
