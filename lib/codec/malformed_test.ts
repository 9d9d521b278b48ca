import assert from "node:assert/strict";
import { Streamo } from "../store/streamo.ts";
import { virtualAddress } from "./chunk_store.ts";
import {
  ARRAY,
  DATE,
  DUPLE,
  EMPTY_OBJECT,
  FLOAT64,
  OBJECT,
  STRING,
  UINT7,
  UINT8ARRAY,
  UNUSED,
  VARIABLE,
  WORD,
} from "./footers.ts";
import { MAX_DECODE_DEPTH, MAX_TREE_DEPTH } from "./decode.ts";
import { MAX_ENCODE_DEPTH } from "./encode.ts";

/** Minimal little-endian bytes of an address. */
function le(n: number): number[] {
  const out: number[] = [];
  do {
    out.push(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  return out;
}

/** A one-part code over the address `a`. */
function over(base: number, a: number): Uint8Array {
  const part = le(a);
  return new Uint8Array([...part, base + part.length]);
}

/** A DUPLE whose two parts are the addresses `a` and `b`. */
function duple(a: number, b: number): Uint8Array {
  const l = le(a);
  const r = le(b);
  return new Uint8Array([...l, ...r, DUPLE + 5 * l.length + r.length]);
}

const WORD_1234 = new Uint8Array([1, 2, 3, 4, WORD + 4]);
// DUPLE("a" as an inline STRING over an inline WORD, UINT7 0): an entry.
const ENTRY_A0 = new Uint8Array([0x61, WORD + 1, STRING, UINT7, DUPLE]);

function storeWithValue(): Streamo {
  const s = new Streamo();
  s.set({ name: "alice", list: [1, 2, 3], text: "a longer string value" });
  return s;
}

/** Asserts `f` throws an instance of `type` whose message matches `message`. */
function throwsError(
  f: () => unknown,
  type: typeof RangeError | typeof SyntaxError | typeof TypeError,
  message: RegExp,
): void {
  assert.throws(f, (error: unknown) => {
    assert.ok(
      error instanceof type,
      `expected ${type.name}, got ${(error as Error)?.constructor?.name}: ${
        (error as Error)?.message
      }`,
    );
    assert.match((error as Error).message, message);
    return true;
  });
}

// ---------------------------------------------------------------------------
// decode(code)

Deno.test("decode() rejects an empty code with RangeError", () => {
  throwsError(
    () => new Streamo().decode(new Uint8Array()),
    RangeError,
    /empty/,
  );
});

Deno.test("decode() rejects something that is neither an address nor a code with TypeError", () => {
  const s = new Streamo();
  throwsError(
    () => s.decode("00" as unknown as Uint8Array),
    TypeError,
    /expected an address or a Uint8Array/,
  );
});

Deno.test("decode() rejects every truncated code with RangeError", () => {
  const s = new Streamo();
  const codes = [
    s.encode(-1.5),
    s.encode("hello, world"),
    s.encode(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])),
    s.encode({ a: 1, b: [2, 3] }),
    s.encode(new Date(0)),
  ];
  let cases = 0;
  for (const code of codes) {
    for (let drop = 1; drop < code.length; drop++) {
      throwsError(
        () => s.decode(code.subarray(drop)),
        RangeError,
        /truncated/,
      );
      cases++;
    }
  }
  assert.ok(cases >= 5, `only ${cases} truncations tried`);
});

Deno.test("decode() rejects a code with bytes before its start with SyntaxError", () => {
  const s = new Streamo();
  const code = s.encode("hello, world");
  throwsError(
    () => s.decode(new Uint8Array([0, ...code])),
    SyntaxError,
    new RegExp(
      `footer says the code is ${code.length} bytes but it has ${
        code.length + 1
      }`,
    ),
  );
});

Deno.test("decode() rejects every unknown footer 204..255 with SyntaxError, alone or inside a code", () => {
  const s = storeWithValue();
  for (let f = UNUSED; f <= 255; f++) {
    const message = new RegExp(`footer ${f} .*names no codec`);
    throwsError(() => s.decode(new Uint8Array([f])), SyntaxError, message);
    throwsError(
      () => s.decode(new Uint8Array([f, OBJECT])),
      SyntaxError,
      message,
    );
    throwsError(
      () => s.decode(new Uint8Array([f, UINT7, DUPLE])),
      SyntaxError,
      message,
    );
  }
});

Deno.test("decode() rejects an address past the end with RangeError", () => {
  const s = storeWithValue();
  const n = s.byteLength;
  throwsError(() => s.decode(n), RangeError, new RegExp(`${n} bytes long`));
  throwsError(() => s.decode(2 ** 40), RangeError, /bytes long/);
  throwsError(
    () => s.decode(over(STRING, n)),
    RangeError,
    new RegExp(`address ${n} points past the end of the stream`),
  );
  throwsError(
    () => s.decode(over(ARRAY, 0xffffffff)),
    RangeError,
    /points past the end/,
  );
});

Deno.test("decode() rejects an address inside a chunk with RangeError", () => {
  const s = new Streamo();
  const address = s.append(s.encode("hello, world"));
  const inside = address - 1;
  assert.ok(s.resolve(address).length > 1);
  throwsError(() => s.decode(inside), RangeError, /middle of a chunk/);
  throwsError(
    () => s.decode(over(STRING, inside)),
    RangeError,
    new RegExp(`address ${inside} points into the middle of a chunk`),
  );
  throwsError(
    () => s.decode(duple(inside, address)),
    RangeError,
    /middle of a chunk/,
  );
});

Deno.test("decode() rejects addresses that are not integers with RangeError", () => {
  const s = storeWithValue();
  for (const address of [1.5, NaN, -0.5, Infinity, -Infinity, -(2 ** 40)]) {
    throwsError(() => s.decode(address), RangeError, /Cannot resolve/);
  }
});

Deno.test("decode() rejects a virtual ref whose inline code names a missing chunk with RangeError", () => {
  const s = storeWithValue();
  const ref = virtualAddress(new Uint8Array([200, ARRAY + 1]));
  throwsError(() => s.decode(ref), RangeError, /address 200 points past/);
  // An inline code that is cut short.
  const cut = virtualAddress(new Uint8Array([STRING + 1]));
  throwsError(() => s.decode(cut), RangeError, /truncated/);
});

Deno.test("setRefs() rejects a ref naming a missing chunk with RangeError and appends nothing", () => {
  const s = storeWithValue();
  const before = s.byteLength;
  const value = s.get();
  const ref = virtualAddress(new Uint8Array([200, ARRAY + 1]));
  throwsError(() => s.setRefs("x", ref), RangeError, /points past the end/);
  throwsError(() => s.setRefs("x", before + 5), RangeError, /bytes long/);
  throwsError(() => s.setRefs("x", 1.5), RangeError, /not an integer/);
  assert.equal(s.byteLength, before);
  assert.deepEqual(s.get(), value);
});

// ---------------------------------------------------------------------------
// Codes of the right width whose content is wrong.

Deno.test("decode() rejects well-formed codes with the wrong content with SyntaxError", () => {
  const s = new Streamo();
  const word = s.append(WORD_1234);
  const seven = s.append(new Uint8Array([UINT7 + 7]));
  const three = s.append(new Uint8Array([1, 2, 3, WORD + 3]));
  const mixed = s.append(duple(word, s.append(ENTRY_A0)));
  const cases: [Uint8Array, RegExp][] = [
    [duple(word, word), /a DUPLE is an internal tree node, not a value/],
    [over(OBJECT, word), /OBJECT at \d+: expected a DUPLE tree of entries/],
    [over(ARRAY, seven), /ARRAY at \d+: expected a DUPLE tree or an OBJECT/],
    [over(STRING, seven), /expected a WORD or UINT8ARRAY code, found footer/],
    [over(UINT8ARRAY, word), /UINT8ARRAY at \d+: expected a DUPLE tree/],
    [over(FLOAT64, three), /FLOAT64 at \d+: expected 8 bytes, found 3/],
    [over(DATE, word), /DATE at \d+: expected 8 bytes, found 4/],
    [
      over(UINT8ARRAY, s.append(duple(word, seven))),
      /a leaf of its tree has footer 27, not a WORD/,
    ],
    [
      over(OBJECT, s.append(duple(seven, seven))),
      /an entry's name at \d+ is a number, not a string/,
    ],
    [over(OBJECT, mixed), /mixes an entry and a subtree/],
  ];
  for (const [code, message] of cases) {
    throwsError(() => s.decode(code), SyntaxError, message);
    // The same chunk is accepted (its width is right) but never decodes.
    const address = s.append(code);
    throwsError(() => s.decode(address), SyntaxError, message);
    throwsError(() => s.get(), SyntaxError, message);
  }
});

Deno.test("decode() rejects an ARRAY whose object has no valid length with SyntaxError", () => {
  const s = new Streamo();
  // { a: 0 } as the object of an array: no length.
  const object = s.append(over(OBJECT, s.append(ENTRY_A0)));
  throwsError(
    () => s.decode(over(ARRAY, object)),
    SyntaxError,
    /ARRAY at \d+: its length undefined is not a valid array length/,
  );
  const lengthIsText = s.append(s.encode({ length: "three" }));
  throwsError(
    () => s.decode(over(ARRAY, lengthIsText)),
    SyntaxError,
    /its length three is not a valid array length/,
  );
});

Deno.test("getRefs() on an ARRAY over a scalar throws SyntaxError, not a crash", () => {
  const s = new Streamo();
  s.append(over(ARRAY, s.append(new Uint8Array([1, 2, 3, WORD + 3]))));
  throwsError(
    () => s.getRefs(),
    SyntaxError,
    /expected a DUPLE tree or an OBJECT/,
  );
  throwsError(
    () => s.get("length"),
    SyntaxError,
    /expected a DUPLE tree or an OBJECT/,
  );
});

// ---------------------------------------------------------------------------
// append() of malformed chunks

Deno.test("append() and appendChunk() reject malformed chunks and leave the stream unchanged", () => {
  const s = storeWithValue();
  const n = s.byteLength;
  const last = n - 1;
  const cases: [unknown, typeof RangeError, RegExp][] = [
    [new Uint8Array(), RangeError, /empty/],
    ["abc", TypeError, /expected a Uint8Array/],
    [[1, 2], TypeError, /expected a Uint8Array/],
    [new Uint8Array(70).fill(UINT7), RangeError, /longer than any code/],
    [new Uint8Array([UNUSED]), SyntaxError, /names no codec/],
    [
      new Uint8Array([0, UINT7]),
      SyntaxError,
      /footer says 1 bytes but it has 2/,
    ],
    [new Uint8Array([STRING + 1]), RangeError, /truncated/],
    [new Uint8Array([1, 2, WORD + 3]), RangeError, /truncated/],
    // Names itself: its last byte will be at n + 1.
    [
      over(ARRAY, n + 1),
      RangeError,
      /references address \d+, which is not before the chunk/,
    ],
    // Names an address that does not exist yet.
    [over(ARRAY, n + 40), RangeError, /not before the chunk/],
    [duple(last, n), RangeError, /not before the chunk/],
    [
      over(STRING, last - 1),
      RangeError,
      /inside a chunk, not a chunk's last byte/,
    ],
  ];
  for (const [chunk, type, message] of cases) {
    for (const method of ["append", "appendChunk"] as const) {
      const value = s.valueAddress;
      throwsError(
        () => s[method](chunk as Uint8Array),
        type,
        message,
      );
      assert.equal(s.byteLength, n, `${method}(${String(chunk)})`);
      assert.equal(s.valueAddress, value);
    }
  }
  assert.deepEqual(s.get("list"), [1, 2, 3]);
});

Deno.test("decode() of a code naming its own future address rejects it with RangeError", () => {
  const s = storeWithValue();
  const n = s.byteLength;
  throwsError(
    () => s.decode(over(ARRAY, n + 1)),
    RangeError,
    new RegExp(`address ${n + 1} points past the end`),
  );
});

// ---------------------------------------------------------------------------
// DAG bombs and deep nesting

/** A chain of `levels` DUPLEs over `leaf`, both parts naming the one below. */
function bomb(s: Streamo, leaf: Uint8Array, levels: number): number {
  let node = s.append(leaf);
  for (let i = 0; i < levels; i++) node = s.append(duple(node, node));
  return node;
}

Deno.test("decode() rejects a DAG bomb (DUPLE chain 60 levels deep, both parts shared) with RangeError", () => {
  const bombs: [string, (s: Streamo, top: number) => Uint8Array][] = [
    ["ARRAY", (_s, top) => over(ARRAY, top)],
    ["UINT8ARRAY", (_s, top) => over(UINT8ARRAY, top)],
    ["STRING", (s, top) => over(STRING, s.append(over(UINT8ARRAY, top)))],
  ];
  for (const [name, wrap] of bombs) {
    const s = new Streamo();
    const code = wrap(s, bomb(s, WORD_1234, 60));
    throwsError(() => s.decode(code), RangeError, /DAG bomb/);
    const address = s.append(code);
    throwsError(() => s.decode(address), RangeError, /DAG bomb/);
    throwsError(() => s.get(), RangeError, /DAG bomb/);
    if (name === "ARRAY") {
      throwsError(() => s.getRefs(), RangeError, /DAG bomb/);
      throwsError(() => s.get("length"), RangeError, /too deep/);
    }
  }
  const s = new Streamo();
  const object = over(OBJECT, bomb(s, ENTRY_A0, 60));
  throwsError(() => s.decode(object), RangeError, /DAG bomb/);
  s.append(object);
  throwsError(() => s.getRefs(), RangeError, /DAG bomb/);
  throwsError(() => s.get("a"), RangeError, /DAG bomb/);
});

Deno.test("decode() still decodes values whose parts are legitimately shared", () => {
  const s = new Streamo();
  const same = new Array(1 << 14).fill("x");
  const address = s.append(s.encode(same));
  // 2^14 items stored in a handful of chunks: every tree node is shared.
  assert.ok(s.byteLength < 200, `${s.byteLength} bytes`);
  assert.deepEqual(s.decode(address), same);
  const nested = { a: same.slice(0, 64), b: same.slice(0, 64) };
  assert.deepEqual(s.decode(s.append(s.encode(nested))), nested);
});

Deno.test("decode() rejects values nested deeper than MAX_DECODE_DEPTH with RangeError", () => {
  // Arrays of arrays: ARRAY(DUPLE(previous array, 0)).
  const arrays = new Streamo();
  let node = arrays.append(new Uint8Array([UINT7]));
  for (let i = 0; i <= MAX_DECODE_DEPTH; i++) {
    const tree = arrays.append(
      new Uint8Array([...le(node), UINT7, DUPLE + 5 * le(node).length]),
    );
    node = arrays.append(over(ARRAY, tree));
  }
  throwsError(
    () => arrays.decode(node),
    RangeError,
    new RegExp(`nests deeper than ${MAX_DECODE_DEPTH} levels`),
  );
  // Objects of objects: OBJECT(DUPLE("a", previous object)).
  const objects = new Streamo();
  node = objects.append(new Uint8Array([EMPTY_OBJECT]));
  for (let i = 0; i <= MAX_DECODE_DEPTH; i++) {
    const entry = objects.append(
      new Uint8Array([
        0x61,
        WORD + 1,
        STRING,
        ...le(node),
        DUPLE + le(node).length,
      ]),
    );
    node = objects.append(over(OBJECT, entry));
  }
  throwsError(() => objects.get(), RangeError, /nests deeper than/);
});

Deno.test("decode() rejects a DUPLE tree deeper than any canonical tree with RangeError", () => {
  const s = new Streamo();
  // A comb: each node's left part is the node below, its right an inline 0.
  let node = s.append(new Uint8Array([UINT7 + 1]));
  for (let i = 0; i <= MAX_TREE_DEPTH + 1; i++) {
    node = s.append(
      new Uint8Array([...le(node), UINT7, DUPLE + 5 * le(node).length]),
    );
  }
  throwsError(
    () => s.decode(over(ARRAY, node)),
    RangeError,
    new RegExp(`deeper than ${MAX_TREE_DEPTH} levels`),
  );
  throwsError(
    () => s.decode(over(UINT8ARRAY, node)),
    RangeError,
    /deeper than|not a WORD/,
  );
});

Deno.test("VARIABLE boxes nested thousands deep decode without recursion", () => {
  const s = new Streamo();
  let node = s.append(s.encode({ a: 1 }));
  for (let i = 0; i < 5000; i++) node = s.append(over(VARIABLE, node));
  assert.deepEqual(s.decode(node), { a: 1 });
  assert.deepEqual(s.get("a"), 1);
});

function nest(depth: number, wrap: (inner: unknown) => unknown): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

Deno.test("every value nested as deep as encode() allows decodes again", () => {
  const shapes: Record<string, (inner: unknown) => unknown> = {
    "one-item array": (x) => [x],
    "two-item array": (x) => [1, x],
    "sparse array": (x) => {
      const a = [x];
      a[3] = 1;
      a[9] = 2;
      return a;
    },
    "object": (x) => ({ a: x }),
    "object of 9 keys": (x) => ({
      a: 1,
      b: 2,
      c: 3,
      d: 4,
      e: 5,
      f: 6,
      g: 7,
      h: 8,
      i: x,
    }),
  };
  for (const [name, wrap] of Object.entries(shapes)) {
    const value = nest(MAX_ENCODE_DEPTH, wrap);
    const s = new Streamo();
    const address = s.append(s.encode(value));
    assert.deepEqual(s.decode(address), value, name);
  }
});

Deno.test("encode() rejects values nested deeper than MAX_ENCODE_DEPTH, and cycles, with TypeError", () => {
  const s = new Streamo();
  throwsError(
    () => s.encode(nest(MAX_ENCODE_DEPTH + 1, (x) => [x, 0])),
    TypeError,
    new RegExp(`nests deeper than ${MAX_ENCODE_DEPTH} levels`),
  );
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  throwsError(() => s.encode(cycle), TypeError, /is it cyclic/);
  throwsError(() => s.encode(() => 1), TypeError, /type function/);
  throwsError(() => s.encode(1n), TypeError, /type bigint/);
  throwsError(() => s.encode(new Map()), TypeError, /type Map/);
});

Deno.test("strings with lone surrogates encode as UTF-8 with U+FFFD in their place", () => {
  const s = new Streamo();
  assert.equal(s.decode(s.append(s.encode("a\ud800b"))), "a\ufffdb");
});
