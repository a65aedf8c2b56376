#!/usr/bin/env node
/**
 * The `orrery` command line. Each command has --help; errors print one line and exit non-zero.
 */
import { listBackends, testBackend } from './backends-command.ts';

const USAGE = `usage: orrery <command> [options]

commands:
  backends list [--config FILE]        the configured backends
  backends test <name> [--config FILE] start one backend alone, check it end to end, run a probe task

options:
  --config FILE   the config file (default ./orrery.json, then ~/.orrery/config.json)
  --help          this text`;

/** Parses `--key value` options out of argv; returns the positional arguments and options. */
function parse(argv: string[]): { args: string[]; opts: Record<string, string | true> } {
  const args: string[] = [];
  const opts: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      args.push(a);
      continue;
    }
    const key = a.slice(2);
    if (key === 'help') opts.help = true;
    else if (key === 'config') {
      const v = argv[++i];
      if (!v) throw new Error('--config needs a file path');
      opts.config = v;
    } else throw new Error(`unknown option ${a}; see orrery --help`);
  }
  return { args, opts };
}

async function main(argv: string[]): Promise<number> {
  const { args, opts } = parse(argv);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const config = typeof opts.config === 'string' ? opts.config : undefined;
  const [cmd, sub, name] = args;
  if (opts.help || !cmd) {
    print(USAGE);
    return cmd || opts.help ? 0 : 1;
  }
  if (cmd === 'backends' && sub === 'list') {
    listBackends(config, print);
    return 0;
  }
  if (cmd === 'backends' && sub === 'test') {
    if (!name) throw new Error('backends test needs a backend name: orrery backends test <name>');
    await testBackend(name, config, print);
    print(`backend ${name} is ready`);
    return 0;
  }
  throw new Error(`unknown command ${[cmd, sub].filter(Boolean).join(' ')}; see orrery --help`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`orrery: ${err.message.split('\n')[0]}\n`);
    process.exit(1);
  },
);
