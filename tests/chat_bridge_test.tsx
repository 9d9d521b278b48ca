// The signals bridge: components that call `repo.get(...)` while rendering
// re-render exactly when the paths they read change — no subscription code.

import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import { render } from "preact";
import { Repo } from "../lib/store/repo.ts";
import { useValue } from "../lib/preact/mod.ts";

const setupDom = () => {
  const { window, document } = parseHTML(
    "<!DOCTYPE html><html><body><div id=root></div></body></html>",
  );
  const g = globalThis as Record<string, unknown>;
  const saved = { document: g.document, window: g.window };
  g.document = document;
  g.window = window;
  return {
    root: document.getElementById("root")!,
    restore() {
      g.document = saved.document;
      g.window = saved.window;
    },
  };
};

/** Preact re-renders on a debounced microtask/timeout: let it flush. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

Deno.test("the bridge re-renders exactly the components whose paths changed", async () => {
  const dom = setupDom();
  try {
    let t = 0;
    const repo = new Repo({ now: () => t++ });
    repo.set({ name: "alice", messages: [] });
    const renders = { name: 0, count: 0, last: 0, static: 0 };

    const Name = () => {
      renders.name++;
      return <h1>{repo.get("name") as string}</h1>;
    };
    const Count = () => {
      renders.count++;
      const n = useValue<number>(repo, "messages", "length");
      return <p class="count">{n}</p>;
    };
    const Last = () => {
      renders.last++;
      const n = repo.get("messages", "length") as number;
      const last = n ? repo.get("messages", n - 1, "text") as string : "none";
      return <p class="last">{last}</p>;
    };
    const Static = () => {
      renders.static++;
      return <footer>no reads</footer>;
    };
    const App = () => {
      return (
        <main>
          <Name />
          <Count />
          <Last />
          <Static />
        </main>
      );
    };
    render(<App />, dom.root);
    assert.deepEqual(renders, { name: 1, count: 1, last: 1, static: 1 });

    repo.push("messages", { text: "hi", at: 1 });
    await settle();
    assert.deepEqual(renders, { name: 1, count: 2, last: 2, static: 1 });
    assert.equal(dom.root.querySelector(".count")!.textContent, "1");
    assert.equal(dom.root.querySelector(".last")!.textContent, "hi");

    repo.set("name", "alice b.");
    await settle();
    assert.deepEqual(renders, { name: 2, count: 2, last: 2, static: 1 });
    assert.equal(dom.root.querySelector("h1")!.textContent, "alice b.");

    // Bytes arriving from a peer (not a local set) re-render readers too.
    const copy = new Repo({ key: undefined });
    copy.appendRange(repo.chunksBetween(0, repo.byteLength));
    const before = { ...renders };
    const CopyName = () => {
      return <span class="copy">{copy.get("name") as string}</span>;
    };
    render(<CopyName />, dom.root.querySelector("footer")!);
    assert.equal(dom.root.querySelector(".copy")!.textContent, "alice b.");
    repo.set("name", "alice c.");
    copy.appendRange(repo.chunksBetween(copy.byteLength, repo.byteLength));
    await settle();
    assert.equal(dom.root.querySelector(".copy")!.textContent, "alice c.");
    assert.equal(renders.count, before.count, "Count did not re-render");

    render(null, dom.root);
  } finally {
    dom.restore();
  }
});
