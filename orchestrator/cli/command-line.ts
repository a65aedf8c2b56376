/** Reading a command line: positional arguments and the options a command declares. */

/** Options that no command takes any more, and what to do instead. */
const REMOVED_OPTIONS = new Map<string, string>([
  [
    'token',
    'the --token option was removed: a command line is readable by every user of this machine (ps). The CLI reads the token from ORRERY_TOKEN, else from head.json',
  ],
]);

/** How a command's options are read: a value, a flag, or a repeatable value. */
export type OptionKind = 'value' | 'flag' | 'list';

/** Parsed options: a value, true for a flag, or the values of a repeatable option. */
export type CliOptions = Record<string, string | true | string[]>;

/** One command of the CLI: its help, the options it takes, and what it does (resolving with the exit code). */
export interface CommandSpec {
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionKind>>;
  /** Single-letter aliases (`-f` -> `follow`). */
  readonly short?: Readonly<Record<string, string>>;
  /** Arguments after the first positional one pass through untouched (`run <script> args...`). */
  readonly passThrough?: boolean;
  run(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number>;
}

/** Splits argv into positional arguments and the command's options; unknown options are errors. */
export function parseCommandLine(
  argv: readonly string[],
  spec: CommandSpec | undefined,
  isCommand: (name: string) => boolean,
): { args: string[]; opts: CliOptions } {
  const args: string[] = [];
  const opts: CliOptions = {};
  const kinds: Record<string, OptionKind> = { help: 'flag', ...spec?.options };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // `run <script>`: after the script, only a leading --session belongs to orrery; the rest is the script's.
    if (
      spec?.passThrough &&
      args.length >= 2 &&
      !(a === '--session' && args.length === 2 && opts.session === undefined)
    ) {
      args.push(...argv.slice(i));
      break;
    }
    if (a === '--' && spec?.passThrough) {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    let key = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : (spec?.short?.[a.slice(1)] ?? '');
    if (a.startsWith('--') && key.length === 1) key = '';
    const kind = Object.hasOwn(kinds, key) ? kinds[key] : undefined;
    const removed = REMOVED_OPTIONS.get(key);
    if (!kind && removed) throw new Error(removed);
    if (!kind)
      throw new Error(
        `unknown option ${a}${args[0] ? ` for orrery ${args[0]}` : ''}; see orrery ${args[0] && isCommand(args[0]) ? `${args[0]} ` : ''}--help`,
      );
    if (kind === 'flag') {
      if (eq > 0) throw new Error(`option --${key} takes no value`);
      opts[key] = true;
      continue;
    }
    const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new Error(`option --${key} needs a value`);
    if (kind === 'list') opts[key] = [...((opts[key] as string[] | undefined) ?? []), v];
    else opts[key] = v;
  }
  return { args, opts };
}
