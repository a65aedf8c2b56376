/**
 * Shipping functions as source text. This file runs under tsx, so its own functions already
 * carry esbuild's `__name(...)` calls: every round trip here also covers that helper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sep } from 'node:path';
import { loadCode, shipCode, type Shippable } from '../../orchestrator/core/function-source.ts';

/** Evaluates source in global scope, outside this (strict, tsx-transformed) module. */
// biome-ignore lint/security/noGlobalEval: the tests need functions that tsx never saw: sloppy-mode ones and exact tsx output
const globalEval: (source: string) => unknown = globalThis.eval;

const roundTrip = <T extends Shippable>(f: T): T => loadCode(shipCode(f)) as T;

const capturedMessage = (what: string, names: string): RegExp =>
  new RegExp(
    `^remote\\(\\): ${what} captures variables from its enclosing scope: ${names}\\. ` +
      'Functions run in another process as source text: pass these values as arguments',
  );

function add(a: number, b: number): number {
  return a + b;
}

function* countTo(n: number): Generator<number> {
  for (let i = 1; i <= n; i++) yield i;
}

class Counter {
  static zero = 0;
  #n = Counter.zero;
  inc(by = 1): number {
    this.#n += by;
    return this.#n;
  }
  static make(): Counter {
    return new Counter();
  }
}

class Failure extends Error {
  override readonly name = 'Failure';
}

class Base {}
class Derived extends Base {}

function rich(items: number[], { scale = 2, offset } = { offset: 1 }, ...rest: number[]): number {
  let total = 0;
  const adders: Array<() => number> = [];
  outer: for (const [i, v] of items.entries()) {
    for (let j = 0; j < 3; j++) if (j === 2) continue outer;
    adders.push(() => v * scale + offset + i);
    total += v;
  }
  function plusRest(n: number): number {
    return n + rest.length;
  }
  try {
    JSON.parse('{');
  } catch (err) {
    total += err instanceof SyntaxError ? 100 : 0;
  }
  const { a, ...others } = { a: 1, b: 2 };
  return plusRest(total + adders.reduce((s, f) => s + f(), 0) + a + Object.keys(others).length + Math.max(0, ...rest));
}

test('arrows, async arrows, declarations and generators ship and load', async () => {
  const inc = (x: number) => x + 1;
  assert.equal(shipCode(inc).kind, 'function');
  assert.equal(roundTrip(inc)(1), 2);
  assert.equal(await roundTrip(async (x: number) => x * 2)(4), 8);
  assert.equal(roundTrip(add)(2, 3), 5);
  assert.equal(shipCode(add).name, 'add');
  assert.deepEqual([...roundTrip(countTo)(3)], [1, 2, 3]);
});

test('classes ship with methods, statics and private fields, and may extend globals', () => {
  const code = shipCode(Counter);
  assert.equal(code.kind, 'class');
  assert.equal(code.name, 'Counter');
  const Loaded = loadCode(code) as typeof Counter;
  assert.equal(Loaded.name, 'Counter');
  const c = Loaded.make();
  assert.equal(c.inc(), 1);
  assert.equal(c.inc(5), 6);
  const F = roundTrip(Failure);
  const err = new F('boom');
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'Failure');
  assert.equal(err.message, 'boom');
});

test('method shorthand becomes an evaluatable expression', async () => {
  const obj = {
    run(x: number) {
      return x * 3;
    },
    async fetchTwice(x: number) {
      return x * 2;
    },
    *pair() {
      yield 1;
      yield 2;
    },
    'dash-name'() {
      return 'dash';
    },
    [Symbol.iterator]() {
      return [7][Symbol.iterator]();
    },
  };
  const run = shipCode(obj.run);
  assert.match(run.source, /\.run$/);
  assert.equal(run.name, 'run');
  assert.equal((loadCode(run) as typeof obj.run)(2), 6);
  assert.equal(await roundTrip(obj.fetchTwice)(5), 10);
  assert.deepEqual([...roundTrip(obj.pair)()], [1, 2]);
  assert.equal(roundTrip(obj['dash-name'])(), 'dash');
  assert.deepEqual([...{ [Symbol.iterator]: roundTrip(obj[Symbol.iterator]) }], [7]);
});

test('globals, own parameters and locals are not captures', () => {
  assert.equal(roundTrip(rich)([1, 2], { offset: 10 }, 5), rich([1, 2], { offset: 10 }, 5));
  const isomorphic = () => (typeof window === 'undefined' ? 'node' : 'browser');
  assert.equal(roundTrip(isomorphic)(), 'node');
  const usesNode = () => [
    Buffer.from('hi').length,
    typeof setTimeout,
    structuredClone({ a: 1 }).a,
    globalThis === global,
  ];
  assert.deepEqual(roundTrip(usesNode)(), [2, 'function', 1, true]);
  const selfRef = function fact(n: number): number {
    return n <= 1 ? 1 : n * fact(n - 1);
  };
  assert.equal(roundTrip(selfRef)(5), 120);
});

test('captured variables are rejected, each named once in source order', () => {
  const lr = 0.1;
  const model = { fit: (x: number, y: number) => x + y };
  function train(data: number) {
    return model.fit(data, lr) + lr + model.fit(0, 0);
  }
  assert.throws(() => shipCode(train), {
    name: 'TypeError',
    message: capturedMessage('function "train"', 'model, lr'),
  });
  assert.throws(() => shipCode((p: string) => p.split(sep)), {
    message: capturedMessage('function "<anonymous>"', 'sep'),
  });
  assert.throws(() => shipCode(() => add(1, 2)), { message: capturedMessage('function "<anonymous>"', 'add') });
  assert.throws(() => shipCode(Derived), { message: capturedMessage('class "Derived"', 'Base') });
  assert.throws(
    () =>
      shipCode(
        {
          m() {
            return lr;
          },
        }.m,
      ),
    { message: capturedMessage('function "m"', 'lr') },
  );
});

test('native and bound functions are rejected', () => {
  assert.throws(() => shipCode(Math.max), { name: 'TypeError', message: /function "max" is native code/ });
  assert.throws(() => shipCode(add.bind(null, 1)), { name: 'TypeError', message: /"bound add" is a bound function/ });
});

test('source that does not stand alone is rejected', () => {
  const getter = Object.getOwnPropertyDescriptor(
    {
      get g() {
        return 1;
      },
    },
    'g',
  )!.get!;
  assert.throws(() => shipCode(getter), { name: 'TypeError', message: /does not stand alone/ });
  class Secret {
    #x = 1;
    peek() {
      return this.#x;
    }
  }
  assert.throws(() => shipCode(Secret.prototype.peek), { message: /does not stand alone \(Private field '#x'/ });
  // Shipped code runs in strict mode; sloppy-only syntax is reported as such.
  const sloppy = globalEval('(function s(o) { with (o) { return a; } })') as Shippable;
  assert.throws(() => shipCode(sloppy), { message: /does not stand alone \('with' in strict mode\)/ });
});

test('tsx output with __name(...) and static blocks ships and loads', () => {
  // Exactly what tsx makes of a nested function and class (see ENV-NOTES), evaluated outside tsx.
  const src =
    'async x=>{const inner=__name(y=>y*2,"inner");class K{static{__name(this,"K")}}return [inner(x),inner.name,K.name]}';
  const transformed = globalEval(`(${src})`) as Shippable;
  const code = shipCode(transformed);
  assert.equal(code.source, src);
  return (loadCode(code) as (x: number) => Promise<unknown>)(4).then((out: unknown) =>
    assert.deepEqual(out, [8, 'inner', 'K']),
  );
});

test('helpers from other compilers are captures, with a hint', () => {
  const downlevelled = globalEval(
    '(function f() { return __awaiter(this, void 0, void 0, function* () {}); })',
  ) as Shippable;
  assert.throws(() => shipCode(downlevelled), {
    message: /captures variables .*: __awaiter\..*compile to ES2022 or later/,
  });
});

test('dynamic import() works inside loaded code', async () => {
  const base = async (p: string) => {
    const path = await import('node:path');
    return path.basename(p);
  };
  assert.equal(await roundTrip(base)('/a/b/c.txt'), 'c.txt');
});

test('results are cached per function and per hash', () => {
  const f = (x: number) => x;
  const code = shipCode(f);
  assert.equal(shipCode(f), code);
  assert.equal(loadCode(code), loadCode({ ...code }));
  assert.match(code.hash, /^[0-9a-f]{16}$/);
  const lr = 1;
  const bad = () => lr;
  assert.throws(() => shipCode(bad), /captures/);
  assert.throws(() => shipCode(bad), /captures/);
});

test('loaded code imports relative specifiers from the working directory, and can be shipped again', async () => {
  const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'orrery-import-'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib/util.mjs'), 'export const where = "workdir";\n');
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    const code = {
      kind: 'function' as const,
      name: 'f',
      // A literal, a computed specifier, a string that only looks like an import, and a bare package name.
      source:
        "async () => { const p = './lib/util.mjs'; const s = 'import(x)'; return [(await import('./lib/util.mjs')).where, (await import(p)).where, s, typeof (await import('node:path')).join]; }",
      hash: 'import-rewrite-01',
    };
    const f = loadCode(code) as () => Promise<unknown[]>;
    assert.deepEqual(await f(), ['workdir', 'workdir', 'import(x)', 'function']);
    const again = shipCode(f);
    assert.match(again.source, /__orreryImport\('\.\/lib\/util\.mjs'\)/);
    assert.deepEqual(await (loadCode(again) as () => Promise<unknown[]>)(), [
      'workdir',
      'workdir',
      'import(x)',
      'function',
    ]);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
