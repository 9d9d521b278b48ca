import assert from "node:assert/strict";
import fc from "fast-check";
import { mergeValues, sameValue } from "./merge.ts";

const at = (n: number) => ({ text: `m${n}`, at: n });

Deno.test("mergeValues() keeps both sides' appended items, theirs first", () => {
  const base = { name: "alice", messages: [at(1)] };
  const ours = { name: "alice", messages: [at(1), at(3), at(4)] };
  const theirs = { name: "alice", messages: [at(1), at(2)] };
  const { value, conflicts } = mergeValues(base, ours, theirs);
  assert.deepEqual(value, {
    name: "alice",
    messages: [at(1), at(2), at(3), at(4)],
  });
  assert.deepEqual(conflicts, []);
});

Deno.test("mergeValues() does not duplicate an item both sides appended", () => {
  const base = { messages: [] };
  const ours = { messages: [at(1), at(2)] };
  const theirs = { messages: [at(1)] };
  assert.deepEqual(mergeValues(base, ours, theirs).value, {
    messages: [at(1), at(2)],
  });
});

Deno.test("mergeValues() merges objects by key and takes one-sided changes", () => {
  const base = { a: 1, b: 2, c: 3, gone: true };
  const ours = { a: 10, b: 2, c: 3, mine: "x", gone: true };
  const theirs = { a: 1, b: 20, c: 3, yours: "y" };
  const { value, conflicts } = mergeValues(base, ours, theirs);
  assert.deepEqual(value, { a: 10, b: 20, c: 3, yours: "y", mine: "x" });
  assert.equal(conflicts.length, 0);
});

Deno.test("mergeValues() resolves a true scalar conflict by later commit date and reports it", () => {
  const base = { name: "alice" };
  const ours = { name: "Alice A." };
  const theirs = { name: "alice b" };
  const later = mergeValues(base, ours, theirs, {
    oursDate: new Date(2000),
    theirsDate: new Date(1000),
  });
  assert.deepEqual(later.value, { name: "Alice A." });
  assert.deepEqual(later.conflicts, [{
    path: ["name"],
    base: "alice",
    ours: "Alice A.",
    theirs: "alice b",
    winner: "ours",
  }]);
  const earlier = mergeValues(base, ours, theirs, {
    oursDate: new Date(1000),
    theirsDate: new Date(2000),
  });
  assert.deepEqual(earlier.value, { name: "alice b" });
  assert.equal(earlier.conflicts[0].winner, "theirs");
});

Deno.test("mergeValues() breaks a date tie by bytes, the same way from either side", () => {
  const date = new Date(5);
  const a = mergeValues({ v: 0 }, { v: 1 }, { v: 2 }, {
    oursDate: date,
    theirsDate: date,
  });
  const b = mergeValues({ v: 0 }, { v: 2 }, { v: 1 }, {
    oursDate: date,
    theirsDate: date,
  });
  assert.deepEqual(a.value, b.value);
});

const item = fc.record({
  text: fc.string({ maxLength: 6 }),
  at: fc.integer({ min: 0, max: 1e6 }),
});

Deno.test("mergeValues() of appends loses no item and duplicates none (property)", () => {
  fc.assert(
    fc.property(
      fc.array(item, { maxLength: 5 }),
      fc.array(item, { maxLength: 5 }),
      fc.array(item, { maxLength: 5 }),
      (base, ours, theirs) => {
        const merged = mergeValues(
          { messages: base },
          { messages: [...base, ...ours] },
          { messages: [...base, ...theirs] },
        ).value as { messages: unknown[] };
        const all = [...base, ...theirs, ...ours];
        for (const m of all) {
          if (!merged.messages.some((x) => sameValue(x, m))) return false;
        }
        // Nothing appears more often than on the side that has it most.
        for (const m of merged.messages) {
          const count = (xs: unknown[]) =>
            xs.filter((x) => sameValue(x, m)).length;
          const most = Math.max(
            count([...base, ...ours]),
            count([...base, ...theirs]),
          );
          if (count(merged.messages) > most) return false;
        }
        return sameValue(
          merged.messages.slice(0, base.length + theirs.length),
          [
            ...base,
            ...theirs,
          ],
        );
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("mergeValues() is the identity when one side did nothing (property)", () => {
  const value = fc.jsonValue();
  fc.assert(
    fc.property(value, value, (base, changed) => {
      return sameValue(mergeValues(base, base, changed).value, changed) &&
        sameValue(mergeValues(base, changed, base).value, changed);
    }),
    { numRuns: 500 },
  );
});
