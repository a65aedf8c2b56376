/** A cursor over the token list with the expect-or-fail helpers the parsers share. */
import type { Token } from './lexer.ts';
import { QasmError } from './qasm-error.ts';

/** Describes a token for an error message: `';'`, `identifier 'q'`, `end of file`. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of file';
    case 'id':
      return `'${token.text}'`;
    case 'string':
      return `string "${token.text}"`;
    default:
      return `'${token.text}'`;
  }
}

/** Reads tokens in order; every `expect*` throws a QasmError at the unexpected token. */
export class TokenStream {
  private index = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  /** The token `offset` places ahead, without consuming it (the final `eof` repeats). */
  peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  /** Consumes and returns the next token. */
  next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }

  /** Whether the next token is the punctuation or keyword `text`. */
  at(text: string): boolean {
    const token = this.peek();
    return (token.kind === 'punct' || token.kind === 'id') && token.text === text;
  }

  /** Consumes the next token if it is `text`. */
  accept(text: string): boolean {
    if (!this.at(text)) return false;
    this.next();
    return true;
  }

  /** Consumes `text` or fails with "expected `text` <context>, found ...". */
  expect(text: string, context: string): Token {
    if (!this.at(text)) this.fail(`expected '${text}' ${context}, found ${describeToken(this.peek())}`);
    return this.next();
  }

  /** Consumes an identifier or fails. */
  expectId(context: string): Token {
    if (this.peek().kind !== 'id') this.fail(`expected ${context}, found ${describeToken(this.peek())}`);
    return this.next();
  }

  /** Throws a QasmError at the next token. */
  fail(detail: string): never {
    throw new QasmError(this.peek(), detail);
  }
}
