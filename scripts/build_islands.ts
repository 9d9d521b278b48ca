/**
 * Bundles the islands for browsers into `static/build/` (gitignored):
 * `deno bundle --platform=browser --minify --code-splitting` of
 * `islands/mod.ts`, then writes `manifest.json` naming the entry, the
 * chunks the page loads at once and the lazily loaded ones, with sizes.
 *
 * Run: `deno run -A scripts/build_islands.ts` (the `dev` task runs it).
 *
 * @module
 */

/** What the build produced. */
export interface IslandsManifest {
  /** The entry module, relative to `static/build/`. */
  entry: string;
  /** Modules the page loads up front: the entry and its static imports. */
  initial: string[];
  /** Modules loaded with `import()` after hydration (the chat client). */
  lazy: string[];
  /** Size of every module in bytes (minified, before compression). */
  sizes: Record<string, number>;
  /** Sum of `initial` sizes. */
  initialBytes: number;
  /** Sum of `lazy` sizes (and what they import that `initial` does not). */
  lazyBytes: number;
}

const root = new URL("../", import.meta.url);
const outDir = new URL("static/build/", root);

function importsOf(code: string): { static: string[]; dynamic: string[] } {
  const staticImports = [...code.matchAll(/(?:from|import)\s*"(\.\/[^"]+)"/g)]
    .map((m) => m[1].slice(2));
  const dynamic = [...code.matchAll(/import\(\s*"(\.\/[^"]+)"\s*\)/g)].map((
    m,
  ) => m[1].slice(2));
  return {
    static: staticImports.filter((s) => !dynamic.includes(s)),
    dynamic,
  };
}

/** Builds the bundle and returns its manifest. Throws if `deno bundle` fails. */
export async function buildIslands(
  options: { quiet?: boolean } = {},
): Promise<IslandsManifest> {
  await Deno.remove(outDir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const args = [
    "bundle",
    "--quiet",
    "--platform=browser",
    "--minify",
    "--code-splitting",
    `--outdir=${outDir.pathname}`,
    // Server-only backends (loaded by useFastestBackend, which browsers
    // never call): without these, esbuild still emits a chunk for each.
    "--external=*secp256k1_native.node.ts",
    "--external=*secp256k1_wasm.ts",
    "--external=*sha256_native.node.ts",
    new URL("islands/mod.ts", root).pathname,
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (!result.success) {
    throw new Error(
      `Cannot bundle the islands: deno bundle failed:\n${stderr}`,
    );
  }
  const sizes: Record<string, number> = {};
  const code: Record<string, string> = {};
  for await (const entry of Deno.readDir(outDir)) {
    if (!entry.isFile || !entry.name.endsWith(".js")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, outDir));
    code[entry.name] = text;
    sizes[entry.name] = new TextEncoder().encode(text).length;
  }
  const entry = "mod.js";
  if (!(entry in code)) {
    throw new Error(
      `Cannot bundle the islands: no ${entry} in ${outDir.pathname}`,
    );
  }
  const closure = (start: string[], follow: "static" | "all") => {
    const seen = new Set<string>();
    const todo = [...start];
    while (todo.length) {
      const name = todo.pop()!;
      if (seen.has(name) || !(name in code)) continue;
      seen.add(name);
      const found = importsOf(code[name]);
      todo.push(...found.static);
      if (follow === "all") todo.push(...found.dynamic);
    }
    return seen;
  };
  const initial = closure([entry], "static");
  const all = closure([entry], "all");
  const lazy = [...all].filter((name) => !initial.has(name));
  const sum = (names: Iterable<string>) =>
    [...names].reduce((n, name) => n + sizes[name], 0);
  const manifest: IslandsManifest = {
    entry,
    initial: [...initial],
    lazy,
    sizes,
    initialBytes: sum(initial),
    lazyBytes: sum(lazy),
  };
  await Deno.writeTextFile(
    new URL("manifest.json", outDir),
    JSON.stringify(manifest, null, 2) + "\n",
  );
  if (!options.quiet) {
    const kb = (n: number) => (n / 1024).toFixed(1) + " KB";
    console.log(
      `Islands bundled into static/build/: ${
        kb(manifest.initialBytes)
      } loaded with the page (${manifest.initial.join(", ")}), ${
        kb(manifest.lazyBytes)
      } loaded after hydration (${
        manifest.lazy.join(", ")
      }); minified, before compression.`,
    );
  }
  return manifest;
}

if (import.meta.main) await buildIslands();
