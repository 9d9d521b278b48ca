import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { batch, computed, effect } from "@preact/signals-core";
import fc from "fast-check";
import { VARIABLE } from "../codec/footers.ts";
import { Streamo } from "./streamo.ts";

/** Chunks of `s` from byte `from` on, each a copy. */
function chunksFrom(s: Streamo, from: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = from;
  for (let end = from + 1; end <= s.byteLength; end++) {
    if (s.isChunkBoundary(end)) {
      out.push(s.slice(start, end));
      start = end;
    }
  }
  return out;
}

/** Counts runs of a watcher reading `path` of `s`, with the last value. */
function watchPath(s: Streamo, ...path: (string | number)[]) {
  const seen = { runs: 0, value: undefined as unknown };
  const f = () => {
    seen.runs++;
    seen.value = s.get(...path);
  };
  const stop = s.watch(path.join("."), f);
  return { seen, f, stop };
}

Deno.test("watch() re-runs when a local set() changes the path it read", () => {
  const s = new Streamo();
  s.set({ profile: { name: "alice" }, count: 1 });
  const { seen, stop } = watchPath(s, "profile", "name");
  assert.deepEqual(seen, { runs: 1, value: "alice" });
  s.set("profile", "name", "bob");
  assert.deepEqual(seen, { runs: 2, value: "bob" });
  s.set({ profile: { name: "carol" }, count: 1 });
  assert.deepEqual(seen, { runs: 3, value: "carol" });
  stop();
});

Deno.test("watch() does not re-run when an unrelated path changes", () => {
  const s = new Streamo();
  s.set({ profile: { name: "alice" }, count: 1, list: [1, 2] });
  const { seen, stop } = watchPath(s, "profile", "name");
  s.set("count", 2);
  s.set("list", 2, 3);
  s.set("profile", "age", 30);
  s.set({ profile: { name: "alice", age: 31 }, count: 5 });
  assert.equal(seen.runs, 1);
  assert.equal(seen.value, "alice");
  stop();
});

Deno.test("watch() does not re-run when a sibling update stores its small value as a chunk", () => {
  const s = new Streamo();
  s.set({ a: 1, b: 0 });
  const { seen, stop } = watchPath(s, "a");
  // Storing the leaf 1 for "b" makes the rebuilt object name "a"'s 1 by
  // address instead of inline: same value, so no re-run.
  s.set("b", 1);
  s.set("b", 2);
  assert.deepEqual(seen, { runs: 1, value: 1 });
  stop();
});

Deno.test("watch() re-runs when chunks copied from another store change its path, and only then", () => {
  const s = new Streamo();
  s.set({ a: 1, b: 2 });
  const other = s.clone();
  other.set("a", 10);
  other.set("c", "new");
  const a = watchPath(s, "a");
  const b = watchPath(s, "b");
  // Copy the other store's new chunks byte for byte, as one update.
  batch(() => {
    for (const chunk of chunksFrom(other, s.byteLength)) s.appendChunk(chunk);
  });
  assert.deepEqual(s.slice(), other.slice());
  assert.deepEqual(s.get(), { a: 10, b: 2, c: "new" });
  assert.deepEqual(a.seen, { runs: 2, value: 10 });
  assert.deepEqual(b.seen, { runs: 1, value: 2 });
  // appendRange() applies a range as one update by itself.
  other.set("b", 20);
  s.appendRange(chunksFrom(other, s.byteLength));
  assert.deepEqual(a.seen, { runs: 2, value: 10 });
  assert.deepEqual(b.seen, { runs: 2, value: 20 });
  a.stop();
  b.stop();
});

Deno.test("effect() and computed() over get() follow their own path only", () => {
  const s = new Streamo();
  s.set({ todo: [{ text: "a", done: false }], title: "list" });
  const doneCount = computed(() =>
    (s.get("todo") as { done: boolean }[]).filter((t) => t.done).length
  );
  const titles: unknown[] = [];
  const stopTitle = effect(() => {
    titles.push(s.get("title"));
  });
  const counts: number[] = [];
  const stopCount = effect(() => {
    counts.push(doneCount.value);
  });
  s.set("todo", 0, "done", true);
  s.set("todo", 1, { text: "b", done: false });
  s.set("title", "renamed");
  assert.deepEqual(titles, ["list", "renamed"]);
  assert.deepEqual(counts, [0, 1]);
  stopTitle();
  stopCount();
});

Deno.test("signal() is a read-only signal of one path", () => {
  const s = new Streamo();
  s.set({ n: 1, m: 1 });
  const n = s.signal("n");
  const seen: unknown[] = [];
  const stop = n.subscribe((value) => seen.push(value));
  s.set("m", 2);
  s.set("n", 2);
  assert.equal(n.value, 2);
  assert.equal(n.peek(), 2);
  assert.deepEqual(seen, [1, 2]);
  stop();
});

Deno.test("byteLength is reactive", () => {
  const s = new Streamo();
  const lengths: number[] = [];
  const stop = effect(() => {
    lengths.push(s.byteLength);
  });
  s.set({ a: "some text" });
  assert.deepEqual(lengths, [0, s.byteLength]);
  // encode() appends sub-codes (one update), append() the code (another).
  s.append(s.encode([1, 2, "three"]));
  assert.equal(lengths.length, 4);
  assert.equal(lengths[3], s.byteLength);
  assert.ok(lengths[1] < lengths[2] && lengths[2] < lengths[3]);
  // Appending a chunk that is already stored changes nothing.
  s.append(s.encode([1, 2, "three"]));
  assert.equal(lengths.length, 4);
  stop();
});

Deno.test("unwatch() stops a watcher, and so does the function watch() returns", () => {
  const s = new Streamo();
  s.set({ a: 1 });
  const first = watchPath(s, "a");
  const second = watchPath(s, "a");
  s.set("a", 2);
  s.unwatch(first.f);
  second.stop();
  s.set("a", 3);
  assert.equal(first.seen.runs, 2);
  assert.equal(second.seen.runs, 2);
  // Watching the same function again replaces the first watch.
  const runs: number[] = [];
  const f = () => {
    runs.push(s.get("a") as number);
  };
  s.watch("x", f);
  s.watch("x", f);
  s.set("a", 4);
  s.unwatch(f);
  s.set("a", 5);
  assert.deepEqual(runs, [3, 3, 4]);
});

Deno.test("watch() reports which watcher failed", () => {
  const s = new Streamo();
  assert.throws(
    () =>
      s.watch("broken", () => {
        throw new Error("boom");
      }),
    (error: Error) =>
      /Watcher "broken" failed/.test(error.message) &&
      (error.cause as Error).message === "boom",
  );
});

Deno.test("set(value) of a stored value that is not current boxes it, so the value really changes", () => {
  const s = new Streamo();
  const first = s.set({ a: 1 });
  s.set({ b: 2 });
  const before = s.byteLength;
  const address = s.set({ a: 1 });
  assert.notEqual(address, first);
  assert.ok(s.byteLength > before);
  assert.deepEqual(s.get(), { a: 1 });
  assert.deepEqual(s.get("a"), 1);
  const code = s.resolve(address);
  const footer = code[code.length - 1];
  assert.ok(footer >= VARIABLE && footer < VARIABLE + 5, `footer ${footer}`);
  // A reader of the stream sees the same value.
  assert.deepEqual(s.clone().get(), { a: 1 });
  // Path updates work through the box.
  s.set("c", 3);
  assert.deepEqual(s.get(), { a: 1, c: 3 });
});

Deno.test("set(value) of the current value appends nothing and does not notify", () => {
  const s = new Streamo();
  const address = s.set({ a: 1, list: ["x"] });
  const length = s.byteLength;
  const { seen, stop } = watchPath(s, "a");
  const root = watchPath(s);
  assert.equal(s.set({ a: 1, list: ["x"] }), address);
  assert.equal(s.byteLength, length);
  assert.equal(seen.runs, 1);
  assert.equal(root.seen.runs, 1);
  // A path set of an unchanged value rebuilds the root (its children are
  // now referenced by address), but readers of the path do not re-run.
  s.set("a", 1);
  assert.equal(seen.runs, 1);
  assert.deepEqual(s.get(), { a: 1, list: ["x"] });
  stop();
  root.stop();
});

Deno.test("set(...path, value) on an empty store builds nested objects", () => {
  const s = new Streamo();
  s.set("a", "b", "c", 1);
  assert.deepEqual(s.get(), { a: { b: { c: 1 } } });
  const t = new Streamo();
  t.set("list", 0, "x");
  assert.deepEqual(t.get(), { list: { 0: "x" } });
});

Deno.test("set() through a scalar or with a non-index key on an array throws TypeError and appends nothing", () => {
  const s = new Streamo();
  s.set({ name: "alice", list: [1, 2, 3], n: 5 });
  const length = s.byteLength;
  const value = s.get();
  assert.throws(
    () => s.set("name", "first", "a long string that would be appended"),
    (e: Error) =>
      e instanceof TypeError && /name is not an object/.test(e.message),
  );
  assert.throws(
    () => s.set("n", 0, 1),
    (e: Error) =>
      e instanceof TypeError && /n is not an object/.test(e.message),
  );
  assert.throws(
    () => s.set("list", "x", "a long string that would be appended"),
    (e: Error) =>
      e instanceof TypeError && /"x" is not an index/.test(e.message),
  );
  assert.throws(
    () => s.set("list", -1, 1),
    (e: Error) =>
      e instanceof TypeError && /non-negative integers/.test(e.message),
  );
  assert.throws(() => (s.set as () => number)(), TypeError);
  assert.equal(s.byteLength, length);
  assert.deepEqual(s.get(), value);
  const scalar = new Streamo();
  scalar.set("just text");
  assert.throws(() => scalar.set("a", 1), TypeError);
});

Deno.test("array pushes by index = length extend the array", () => {
  const s = new Streamo();
  s.set({ list: [] });
  for (let i = 0; i < 20; i++) s.set("list", i, { i });
  assert.equal(s.get("list", "length"), 20);
  assert.deepEqual(s.get("list", 19), { i: 19 });
  assert.deepEqual(
    s.get("list"),
    Array.from({ length: 20 }, (_, i) => ({ i })),
  );
});

Deno.test("clone(address) is independent of its source", () => {
  const s = new Streamo();
  s.set({ a: 1 });
  const at = s.valueAddress;
  s.set("a", 2);
  const old = s.clone(at);
  const now = s.clone();
  assert.deepEqual(old.get(), { a: 1 });
  assert.deepEqual(now.get(), { a: 2 });
  assert.equal(old.byteLength, at + 1);
  old.set("b", 3);
  s.set("c", 4);
  assert.deepEqual(old.get(), { a: 1, b: 3 });
  assert.deepEqual(now.get(), { a: 2 });
  assert.deepEqual(s.get(), { a: 2, c: 4 });
  assert.throws(() => s.clone(s.byteLength + 3), RangeError);
  const empty = new Streamo().clone();
  assert.equal(empty.byteLength, 0);
  assert.equal(empty.get(), undefined);
});

Deno.test("getRefs() and setRefs() round-trip values by ref, without re-encoding", () => {
  const s = new Streamo();
  s.set({ a: { x: 1, y: "text value" }, b: [1, 2, 3], n: 7 });
  const refs = s.getRefs() as Record<string, number>;
  assert.deepEqual(Object.keys(refs), ["a", "b", "n"]);
  const before = s.byteLength;
  s.setRefs("copy", refs.a);
  assert.deepEqual(s.get("copy"), s.get("a"));
  // Only the new root and the path to it were appended.
  assert.ok(s.byteLength - before < 40, `${s.byteLength - before} bytes`);
  const items = s.getRefs("b") as number[];
  assert.equal(items.length, 3);
  s.setRefs("b", 0, items[2]);
  assert.deepEqual(s.get("b"), [3, 2, 3]);
  // A scalar's "refs" is its own ref.
  const n = s.getRefs("n") as number;
  assert.equal(typeof n, "number");
  assert.equal(s.decode(n), 7);
  assert.equal(s.getRefs("missing"), undefined);
  assert.throws(() => s.setRefs(refs.a), TypeError);
});

Deno.test("get() of 'length' and past a scalar follows JavaScript", () => {
  const s = new Streamo();
  s.set({ arr: [1, 2, 3], one: ["x"], name: "alice", n: 5, nothing: null });
  assert.equal(s.get("arr", "length"), 3);
  assert.equal(s.get("one", "length"), 1);
  assert.equal(s.get("arr", 1), 2);
  assert.equal(s.get("arr", 5), undefined);
  assert.equal(s.get("name", "length"), 5);
  assert.equal(s.get("name", 0), "a");
  assert.equal(s.get("n", "length"), undefined);
  assert.equal(s.get("nothing", "x"), undefined);
  assert.equal(s.get("missing", "x", "y"), undefined);
  assert.equal(s.get("arr", "length", "x"), undefined);
  assert.equal(new Streamo().get("a"), undefined);
});

Deno.test("a reader of get('arr','length') re-runs only when the length changes", () => {
  const s = new Streamo();
  s.set({ arr: [1, 2], other: 0 });
  const { seen, stop } = watchPath(s, "arr", "length");
  s.set("arr", 0, 5);
  s.set("other", 1);
  assert.equal(seen.runs, 1);
  s.set("arr", 2, 3);
  assert.deepEqual(seen, { runs: 2, value: 3 });
  stop();
});

/** True when neither path is a prefix of the other. */
function disjoint(a: (string | number)[], b: (string | number)[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (String(a[i]) !== String(b[i])) return true;
  return false;
}

/** True when a proper prefix of `path` leads to a value that is not a container. */
function crossesScalar(s: Streamo, path: (string | number)[]): boolean {
  for (let i = 1; i < path.length; i++) {
    const v = s.get(...path.slice(0, i));
    // (A stored `undefined` is a scalar too; a missing key reads the same.)
    if (v === null || typeof v !== "object" || v instanceof Uint8Array) {
      return true;
    }
  }
  return false;
}

Deno.test("property: a watcher re-runs when the value at its path changes, never for writes elsewhere", () => {
  const keys = ["a", "b", "c"];
  const leaf = fc.oneof(
    fc.integer({ min: -2, max: 300 }),
    fc.constantFrom(undefined, null, true, "", "x", "a longer text"),
    fc.constant([]),
    fc.constant({}),
  );
  const path = fc.array(fc.constantFrom(...keys), {
    minLength: 1,
    maxLength: 3,
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(path, leaf), { minLength: 1, maxLength: 12 }),
      (steps) => {
        const s = new Streamo();
        s.set({ a: { a: 1, b: 2 }, b: 0, c: { c: [1, 2] } });
        const watched: (string | number)[][] = [
          ["a"],
          ["b"],
          ["c"],
          ["a", "a"],
          ["a", "b"],
          ["c", "c"],
          ["c", "c", 0],
          ["c", "c", "length"],
        ];
        const watchers = watched.map((p) => {
          const w = watchPath(s, ...p);
          return {
            path: p,
            ...w,
            runsBefore: w.seen.runs,
            crossed: crossesScalar(s, p),
            last: structuredClone(w.seen.value),
          };
        });
        for (const [p, value] of steps) {
          try {
            s.set(...p, value);
          } catch (error) {
            // A path through a scalar: nothing changes.
            assert.ok(error instanceof TypeError);
          }
          for (const w of watchers) {
            const now = s.get(...w.path);
            const changed = !isDeepStrictEqual(now, w.last);
            const reran = w.seen.runs - w.runsBefore;
            const what = `${w.path.join(".")} after set(${p.join(".")}): ${
              Deno.inspect(w.last)
            } -> ${Deno.inspect(now)}`;
            assert.ok(reran <= 1, what);
            if (changed) assert.equal(reran, 1, what);
            // A write elsewhere never re-runs it. (A write along its path
            // may, even with an equal value: the nodes there are rebuilt;
            // and past a scalar get() reads the scalar's own properties.)
            const pastScalar = w.crossed || crossesScalar(s, w.path);
            w.crossed = crossesScalar(s, w.path);
            if (disjoint(p, w.path) && !pastScalar) {
              assert.equal(reran, 0, what);
            }
            w.runsBefore = w.seen.runs;
            w.last = structuredClone(now);
          }
        }
        for (const w of watchers) w.stop();
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("get() past a scalar reads only a string's or bytes' length and items", () => {
  const s = new Streamo();
  s.set({ name: "alice", n: 5, bytes: new Uint8Array([1, 2, 3, 4, 5, 6]) });
  assert.equal(s.get("name", "length"), 5);
  assert.equal(s.get("name", 0), "a");
  assert.equal(s.get("bytes", "length"), 6);
  assert.equal(s.get("bytes", 5), 6);
  assert.equal(s.get("n", "toFixed"), undefined);
  assert.equal(s.get("name", "toUpperCase"), undefined);
});
