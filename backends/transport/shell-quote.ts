/**
 * Quoting for POSIX shells. Every command Orrery sends to a host (SSH exec, and the srun, sbatch,
 * scancel, squeue and sinfo it runs there) is built from words quoted here, so a value - a
 * backend or job name, a path, a job id - is always exactly one word and never shell syntax,
 * whatever it holds (`;`, quotes, `$(...)`, backticks, spaces).
 */

/** One word: plain words stay as they are, anything else goes in single quotes (a `'` inside becomes `'\''`). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A path that may start with `~/` (the home folder on the host): the tilde stays unquoted so the shell there expands it. */
export function shellPath(path: string): string {
  return path.startsWith('~/') && path.length > 2 ? `~/${shellQuote(path.slice(2))}` : shellQuote(path);
}

/** A command line from words, each quoted. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
