/**
 * `orrery secrets set|delete NAME`: secrets go straight to the OS keychain; configs refer to them
 * by name. The value is read without echo from a terminal, or from stdin when piped, and is never
 * printed, logged or written to a file.
 */
import { deleteSecret, storeSecret } from '../core/keychain.ts';

/** Help of `orrery secrets`. */
export const SECRETS_USAGE = `usage: orrery secrets set <name>       store a secret in the OS keychain (prompts without echo; or pipe the value on stdin)
       orrery secrets delete <name>    remove it

Configs name secrets (passphraseSecret, apiKeySecret, credentialsSecret), and tasks take them by name:
command().remote({ argv, env: { WANDB_API_KEY: secret('<name>') } }). The values stay in the keychain;
the head reads one when a task that names it runs.`;

/** Runs `secrets <sub> <name>`. */
export async function secretsCommand(
  sub: string | undefined,
  name: string | undefined,
  print: (line: string) => void,
): Promise<void> {
  if (sub !== 'set' && sub !== 'delete')
    throw new Error(`unknown secrets command ${sub ?? '(none)'}; use: orrery secrets set|delete <name>`);
  if (!name) throw new Error(`secrets ${sub} needs a secret name: orrery secrets ${sub} <name>`);
  if (sub === 'delete') {
    print((await deleteSecret(name)) ? `deleted secret ${name}` : `there was no secret ${name}`);
    return;
  }
  const value = process.stdin.isTTY ? await promptHidden(`value of ${name}: `) : await readAll(process.stdin);
  await storeSecret(name, value.replace(/\r?\n$/, ''));
  print(`stored secret ${name} in the OS keychain`);
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.once('end', () => resolve(text));
    stream.once('error', reject);
  });
}

/** Reads one line from the terminal in raw mode, echoing nothing. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled; nothing was stored'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
