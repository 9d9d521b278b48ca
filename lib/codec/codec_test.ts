import assert from "node:assert/strict";
import fc from "fast-check";
import { Streamo } from "../store/streamo.ts";
import { setOwn } from "./decode.ts";
import { Signature } from "./signature.ts";

const RUNS = 1000;

/** Any value the codec supports, nested a few levels. */
const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("scalar"),
    tie("array"),
    tie("object"),
  ),
  scalar: fc.oneof(
    fc.constantFrom(undefined, null, true, false),
    fc.integer({ min: 0, max: 127 }),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.constantFrom(NaN, Infinity, -Infinity, -0, 0.1, 2 ** 53, -(2 ** 31)),
    fc.string({ unit: "grapheme", maxLength: 24 }),
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.constantFrom(
      "",
      "é",
      "日本語",
      "👩‍👩‍👧",
      "\u0000",
      "\u{10ffff}",
      "\ufeffBOM",
    ),
    fc.uint8Array({ maxLength: 40 }),
    fc.date(),
    fc.record({
      address: fc.integer({ min: 0, max: 0xffffffff }),
      bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    }).map(({ address, bytes }) => new Signature(address, bytes)),
  ),
  array: fc.oneof(
    fc.array(tie("value"), { maxLength: 6, depthIdentifier: "v" }),
    fc.array(tie("value"), {
      minLength: 1,
      maxLength: 1,
      depthIdentifier: "v",
    }),
    fc.array(fc.array(tie("value"), { maxLength: 3, depthIdentifier: "v" }), {
      maxLength: 4,
      depthIdentifier: "v",
    }),
    fc.sparseArray(tie("value"), { maxLength: 5, depthIdentifier: "v" }),
  ),
  object: fc.dictionary(
    fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom(
        "__proto__",
        "length",
        "constructor",
        "toString",
        "0",
        "1",
        "10",
        "-1",
        "01",
        "1.5",
        "",
      ),
    ),
    tie("value"),
    { maxKeys: 6, noNullPrototype: true, depthIdentifier: "v" },
  ),
})).value;

/** What a decode returns for `value`: the same, with every `-0` read as `0`. */
function expectedOf(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    out.length = value.length;
    for (const key of Object.keys(value)) {
      (out as unknown as Record<string, unknown>)[key] = expectedOf(
        (value as unknown as Record<string, unknown>)[key],
      );
    }
    return out;
  }
  if (
    value !== null && typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      setOwn(out, key, expectedOf((value as Record<string, unknown>)[key]));
    }
    return out;
  }
  return value;
}

function sameValue(actual: unknown, value: unknown, message?: string): void {
  assert.deepStrictEqual(actual, expectedOf(value), message);
}

Deno.test("any supported value round-trips through encode+append and decode", () => {
  fc.assert(
    fc.property(anyValue, (value) => {
      const s = new Streamo();
      const address = s.append(s.encode(value));
      sameValue(s.decode(address), value);
      // A SIGNATURE chunk signs the stream; it never becomes the value.
      if (!(value instanceof Signature)) {
        assert.equal(s.valueAddress, address);
        sameValue(s.get(), value);
      }
    }),
    { numRuns: RUNS },
  );
});

Deno.test("decode(code) of an encoded but unappended code returns the value", () => {
  fc.assert(
    fc.property(anyValue, (value) => {
      const s = new Streamo();
      sameValue(s.decode(s.encode(value)), value);
    }),
    { numRuns: RUNS },
  );
});

Deno.test("values round-trip in a store that already holds other values", () => {
  fc.assert(
    fc.property(
      fc.array(anyValue, { minLength: 1, maxLength: 6 }),
      (values) => {
        const s = new Streamo();
        const addresses = values.map((v) => s.append(s.encode(v)));
        values.forEach((v, i) => sameValue(s.decode(addresses[i]), v, `#${i}`));
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("encoding the same value twice returns the same address and appends nothing the second time", () => {
  fc.assert(
    fc.property(anyValue, anyValue, (before, value) => {
      const s = new Streamo();
      s.append(s.encode(before));
      const first = s.append(s.encode(value));
      const length = s.byteLength;
      const code = s.encode(value);
      assert.equal(s.byteLength, length, "encode appended sub-codes");
      assert.equal(s.addressOf(code), first);
      assert.equal(s.append(code), first);
      assert.equal(s.byteLength, length, "append appended a chunk");
    }),
    { numRuns: RUNS },
  );
});

Deno.test("the same value encodes to the same bytes in two stores with the same history", () => {
  fc.assert(
    fc.property(anyValue, anyValue, (before, value) => {
      const a = new Streamo();
      const b = new Streamo();
      a.append(a.encode(before));
      b.append(b.encode(before));
      assert.deepEqual(a.encode(value), b.encode(value));
      assert.deepEqual(a.slice(), b.slice());
    }),
    { numRuns: 200 },
  );
});

// ---------------------------------------------------------------------------
// set(...path, value) against a plain-JS model.

type Model = Record<string, unknown> | unknown[];

interface Step {
  /** Which container to descend into, as fractions picked at each level. */
  route: number[];
  /** 0: existing key/index, 1: new key / push, 2: whole-value set. */
  kind: number;
  pick: number;
  key: string;
  value: unknown;
}

const smallValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, true, -0, 0, 1, 127, 128, -1, 0.5, NaN),
  fc.string({ maxLength: 10 }),
  fc.date(),
  fc.uint8Array({ maxLength: 9 }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer({ min: -3, max: 300 }), { maxLength: 5 }),
  fc.dictionary(
    fc.constantFrom("a", "b", "length", "__proto__", "0"),
    fc.integer(),
    { maxKeys: 3, noNullPrototype: true },
  ),
);

const step: fc.Arbitrary<Step> = fc.record({
  route: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
    maxLength: 4,
  }),
  kind: fc.constantFrom(0, 0, 0, 1, 1, 1, 2),
  pick: fc.double({ min: 0, max: 1, noNaN: true }),
  key: fc.constantFrom("a", "b", "name", "length", "__proto__", "0", "x y"),
  value: smallValue,
});

function isContainer(v: unknown): v is Model {
  return v !== null && typeof v === "object" &&
    (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype);
}

function childKeys(node: Model): (string | number)[] {
  return Array.isArray(node)
    ? Object.keys(node).map(Number)
    : Object.keys(node);
}

/** The path a step writes to in `model`, or undefined to set the whole value. */
function pathOf(model: unknown, s: Step): (string | number)[] | undefined {
  if (s.kind === 2 || !isContainer(model)) return undefined;
  const path: (string | number)[] = [];
  let node: Model = model;
  for (const r of s.route) {
    const containers = childKeys(node).filter((k) =>
      isContainer((node as Record<string, unknown>)[k])
    );
    if (containers.length === 0) break;
    const key =
      containers[Math.floor(r * containers.length) % containers.length];
    path.push(key);
    node = (node as Record<string, unknown>)[key] as Model;
  }
  const keys = childKeys(node);
  if (Array.isArray(node)) {
    // Existing index, or push at index = length.
    const index = s.kind === 0 && keys.length > 0
      ? keys[Math.floor(s.pick * keys.length) % keys.length] as number
      : node.length;
    path.push(index);
  } else if (s.kind === 0 && keys.length > 0) {
    path.push(keys[Math.floor(s.pick * keys.length) % keys.length]);
  } else path.push(s.key);
  return path;
}

function setModel(
  model: unknown,
  path: (string | number)[],
  value: unknown,
): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path;
  const node = (isContainer(model) ? model : {}) as Record<string, unknown>;
  setOwn(node, String(key), setModel(node[key], rest, value));
  return node;
}

function copy(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.slice();
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(copy);
  if (isContainer(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      setOwn(out, key, copy((value as Record<string, unknown>)[key]));
    }
    return out;
  }
  return value;
}

Deno.test("set(...path, value) sequences decode to the same value as a plain-JS model", () => {
  fc.assert(
    fc.property(
      fc.option(smallValue, { nil: undefined, freq: 3 }),
      fc.array(step, { minLength: 1, maxLength: 14 }),
      (initial, steps) => {
        const s = new Streamo();
        let model: unknown = undefined;
        if (initial !== undefined && isContainer(initial)) {
          s.set(initial);
          model = copy(initial);
        }
        for (const [i, st] of steps.entries()) {
          const path = s.byteLength === 0 && st.kind !== 2
            ? [st.key, ...st.route.length > 1 ? ["inner"] : []]
            : pathOf(model, st);
          const before = s.byteLength;
          if (path === undefined) {
            s.set(st.value);
            model = copy(st.value);
          } else {
            s.set(...path, st.value);
            model = setModel(model, path, copy(st.value));
            sameValue(s.get(...path), st.value, `step ${i}: get(path)`);
          }
          assert.ok(s.byteLength >= before);
          sameValue(s.get(), model, `step ${i}: ${JSON.stringify(path)}`);
        }
        // The final value also survives a copy of the stream up to it.
        const copyStore = s.clone(s.valueAddress);
        sameValue(copyStore.get(), model, "clone");
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("a string that starts with U+FEFF keeps it through encode and decode", () => {
  const s = new Streamo();
  for (const text of ["\ufeff", "\ufeffabc", "\ufeff" + "long ".repeat(20)]) {
    assert.equal(s.decode(s.append(s.encode(text))), text);
  }
});
