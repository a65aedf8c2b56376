/**
 * Functions and classes travel to worker processes as source text (`Function.prototype.toString`).
 * Source text carries no closure, so anything a function reads from its enclosing scope would be
 * missing on the worker; we find such captured variables at `remote()` time by scope analysis
 * instead of letting the task fail later with a ReferenceError in another process.
 */
import { createHash } from 'node:crypto';
import { parse, type Expression } from 'acorn';
import { analyze } from 'eslint-scope';
import { pathToFileURL } from 'node:url';

/** A function or class in a form a worker can evaluate with {@link loadCode}. */
export interface ShippedCode {
  /** `'class'` for a class (actors), `'function'` for anything callable (tasks, methods). */
  readonly kind: 'function' | 'class';
  /** The function's own `name` (`''` when anonymous), for messages and task names. */
  readonly name: string;
  /** One JavaScript expression that evaluates to the function or class. */
  readonly source: string;
  /** First 16 hex digits of the SHA-256 of `source`: the cache key on both sides. */
  readonly hash: string;
}

/** What {@link shipCode} accepts: a function (any arity) or a class (abstract ones too). */
export type Shippable = ((...args: never[]) => unknown) | (abstract new (...args: never[]) => unknown);

/**
 * Free identifiers a shipped function may use: the worker is a Node process too, so its globals
 * are there. Snapshotted at load so that globals the driver's own code adds later
 * (`globalThis.x = ...`) do not pass; those would not exist on the worker.
 */
const ALLOWED_FREE_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(globalThis),
  // esbuild's keepNames helper (tsx): the worker defines it, see NAME_HELPER.
  '__name',
  // What loadCode turns `import(` into: a function loaded on a worker and shipped again from there carries it.
  '__orreryImport',
  'arguments',
  'undefined',
  'NaN',
  'Infinity',
  'globalThis',
]);

/**
 * Source is evaluated in strict mode: nearly all shipped code comes from ES modules or
 * TypeScript output, which are strict, so strict keeps `this` and assignment semantics as written.
 * We parse exactly this wrapper so that "it parses here" means "it evaluates there".
 */
const PARSE_OPTIONS = { ecmaVersion: 'latest', allowReturnOutsideFunction: true, ranges: true } as const;
const wrap = (expression: string): string => `"use strict"; return (\n${expression}\n);`;

/** esbuild's `__name`, which tsx-transformed source calls for nested functions and classes. */
const NAME_HELPER = (target: object, value: string): unknown =>
  Object.defineProperty(target, 'name', { value, configurable: true });

/** What `import(...)` in loaded code is rewritten to call; the worker defines it, like `__name`. */
const IMPORT_HELPER_NAME = '__orreryImport';

/** `import()` with relative specifiers taken from the current working directory. */
const importFromCwd = (specifier: unknown, options?: ImportCallOptions): Promise<unknown> => {
  const s = String(specifier);
  const relative = s.startsWith('./') || s.startsWith('../');
  return import(relative ? new URL(s, pathToFileURL(`${process.cwd()}/`)).href : s, options);
};

/** `source` with each `import(` expression calling {@link importFromCwd} instead. */
function withImportHelper(source: string): string {
  if (!source.includes('import')) return source;
  const prefix = wrap('').indexOf('\n') + 1;
  const ranges: number[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null || !('type' in value)) return;
    const node = value as { type: string; start: number } & Record<string, unknown>;
    if (node.type === 'ImportExpression') ranges.push(node.start - prefix);
    for (const key of Object.keys(node)) if (key !== 'range') visit(node[key]);
  };
  visit(parse(wrap(source), PARSE_OPTIONS).body[1]);
  let out = source;
  // `import` is 6 characters; from the end so earlier offsets stay right.
  for (const at of ranges.sort((a, b) => b - a)) out = `${out.slice(0, at)}${IMPORT_HELPER_NAME}${out.slice(at + 6)}`;
  return out;
}

/** Per function: its shipped form, or the message of the TypeError it is rejected with. */
const shipped = new WeakMap<Shippable, ShippedCode | string>();
const loaded = new Map<string, { readonly source: string; readonly value: Shippable }>();

/**
 * Turns a function or class into {@link ShippedCode} for a worker. Accepts function
 * declarations and expressions, arrows, async functions, generators, classes and method
 * shorthand (`{ run(x) {} }.run`). Results are cached per function object.
 *
 * @throws TypeError for native and bound functions, source that does not stand alone (getters,
 * methods using `#private` names), and functions that capture variables from their enclosing
 * scope; the message names the captured identifiers.
 */
export function shipCode(target: Shippable): ShippedCode {
  let result = shipped.get(target);
  if (result === undefined) {
    result = analyseCode(target);
    shipped.set(target, result);
  }
  if (typeof result === 'string') throw new TypeError(result);
  return result;
}

/**
 * Worker side: evaluates {@link ShippedCode} back into a function or class, with esbuild's
 * `__name` helper in scope. Cached per hash, so each task call does not recompile.
 *
 * Dynamic `import()` inside the loaded code works. Bare package names resolve from the
 * node_modules that holds Orrery; relative ones (`./lib/util.js`, `../x.mjs`) from the working
 * directory of the task when it imports (a shipped `runtimeEnv.workingDir`), so a task can
 * import its project's modules.
 */
export function loadCode(code: ShippedCode): Shippable {
  const hit = loaded.get(code.hash);
  if (hit && hit.source === code.source) return hit.value;
  const value: unknown = new Function('__name', IMPORT_HELPER_NAME, wrap(withImportHelper(code.source)))(
    NAME_HELPER,
    importFromCwd,
  );
  if (typeof value !== 'function') {
    throw new TypeError(`loadCode(): source of ${describe(code.kind, code.name)} did not evaluate to a function`);
  }
  loaded.set(code.hash, { source: code.source, value: value as Shippable });
  return value as Shippable;
}

/** Returns the shipped form, or why the target cannot be shipped. */
function analyseCode(target: Shippable): ShippedCode | string {
  const rawName: unknown = target.name; // a class may define `static name()`
  const name = typeof rawName === 'string' ? rawName : '';
  const text = Function.prototype.toString.call(target);
  const isNative = /\{\s*\[native code\]\s*\}$/.test(text);
  if (isNative && name.startsWith('bound ') && !('prototype' in target)) {
    return (
      `remote(): function "${name}" is a bound function (made by .bind()); its bound \`this\` and ` +
      `arguments cannot travel as source text. Pass the original function and the bound values as arguments.`
    );
  }
  if (isNative) {
    return (
      `remote(): function "${name || '<anonymous>'}" is native code and has no JavaScript source to ship. ` +
      `Wrap it in your own function, e.g. (x) => Math.sqrt(x).`
    );
  }
  const found = toExpression(text, name);
  if (typeof found === 'string') return found;
  const { expression, node } = found;
  const kind = node.type === 'ClassExpression' ? 'class' : 'function';
  const captured = capturedNames(node);
  if (captured.length > 0) {
    const helpers = captured.some((n) => n.startsWith('_'))
      ? ' Names starting with "_" are often helpers a compiler injected for an old target: compile to ES2022 or later.'
      : '';
    return (
      `remote(): ${describe(kind, name)} captures variables from its enclosing scope: ${captured.join(', ')}. ` +
      `Functions run in another process as source text: pass these values as arguments ` +
      `(or import modules inside the function with await import(...)).${helpers}`
    );
  }
  const hash = createHash('sha256').update(expression).digest('hex').slice(0, 16);
  return Object.freeze({ kind, name, source: expression, hash });
}

/**
 * Finds an expression that evaluates to the same function. Functions, arrows and classes
 * already are one; method shorthand (`run(x) {...}`, `async *gen() {...}`) is not, so it is
 * wrapped in an object literal and read back out.
 */
function toExpression(text: string, name: string): { expression: string; node: Expression } | string {
  const direct = tryParse(text);
  if (
    !(direct instanceof SyntaxError) &&
    /^(FunctionExpression|ArrowFunctionExpression|ClassExpression)$/.test(direct.type)
  ) {
    return { expression: text, node: direct };
  }
  const literal = `{ ${text} }`;
  const wrapped = tryParse(literal);
  const object = !(wrapped instanceof SyntaxError) && wrapped.type === 'ObjectExpression' ? wrapped : undefined;
  const prop = object?.properties.length === 1 ? object.properties[0] : undefined;
  if (object && prop?.type === 'Property' && prop.method && prop.kind === 'init') {
    const expression =
      !prop.computed && prop.key.type === 'Identifier'
        ? `(${literal}).${prop.key.name}`
        : `((o) => o[Reflect.ownKeys(o)[0]])(${literal})`; // literal or computed key, e.g. [Symbol.iterator]
    return { expression, node: object };
  }
  // Whichever reading parsed further is what the source meant (a function using `with`
  // fails late as a function but at once as a method). Positions are in our wrapper: drop them.
  let reason = 'it is not a function, arrow function, method or class';
  if (direct instanceof SyntaxError) reason = direct.message;
  if (wrapped instanceof SyntaxError && !(direct instanceof SyntaxError && direct.pos >= wrapped.pos - 2)) {
    reason = wrapped.message;
  }
  reason = reason.replace(/ \(\d+:\d+\)$/, '');
  return (
    `remote(): the source of function "${name || '<anonymous>'}" does not stand alone (${reason}). ` +
    `Ship a plain function, arrow function, method or class (code runs in strict mode); getters and ` +
    `methods that use #private names of their class cannot travel on their own.`
  );
}

/** Parses `text` inside the evaluation wrapper into the returned expression, or the parse error. */
function tryParse(text: string): Expression | (SyntaxError & { pos: number }) {
  try {
    const ret = parse(wrap(text), PARSE_OPTIONS).body[1];
    if (ret?.type === 'ReturnStatement' && ret.argument) return ret.argument;
    return Object.assign(new SyntaxError('not a single expression'), { pos: 0 });
  } catch (err) {
    if (err instanceof SyntaxError && typeof (err as { pos?: unknown }).pos === 'number') {
      return err as SyntaxError & { pos: number };
    }
    throw err;
  }
}

/** Unresolved identifiers in `node` that are not Node globals, once each, in source order. */
function capturedNames(node: Expression): string[] {
  const program = {
    type: 'Program',
    sourceType: 'script',
    body: [{ type: 'ExpressionStatement', expression: node }],
    start: 0,
    end: node.end,
  };
  const scopes = analyze(program as unknown as Parameters<typeof analyze>[0], {
    ecmaVersion: 2025,
    sourceType: 'script',
    impliedStrict: true,
    // A direct eval would otherwise mark every reference as unresolved.
    ignoreEval: true,
    // estraverse predates import attributes, which can hold expressions.
    childVisitorKeys: { ImportExpression: ['source', 'options'] },
  });
  const guarded = typeofOperands(node);
  const refs = scopes
    .globalScope!.through.filter((ref) => !ALLOWED_FREE_NAMES.has(ref.identifier.name))
    // `typeof x` never throws, so feature checks such as `typeof window` capture nothing.
    .filter((ref) => !guarded.has(ref.identifier))
    .sort((a, b) => a.identifier.range![0] - b.identifier.range![0]);
  return [...new Set(refs.map((ref) => ref.identifier.name))];
}

/** Identifier nodes that are the direct operand of `typeof`. */
function typeofOperands(root: Expression): Set<unknown> {
  const found = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null || !('type' in value)) return;
    const node = value as Partial<Expression> & Record<string, unknown>;
    if (node.type === 'UnaryExpression' && node.operator === 'typeof' && node.argument?.type === 'Identifier') {
      found.add(node.argument);
    }
    for (const key of Object.keys(node)) if (key !== 'range') visit(node[key]);
  };
  visit(root);
  return found;
}

function describe(kind: 'function' | 'class', name: string): string {
  return `${kind} "${name || '<anonymous>'}"`;
}
