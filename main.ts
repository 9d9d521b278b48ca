/**
 * The streamo server entry point: `deno task dev`.
 *
 * @module
 */

const port = Number(Deno.env.get("STREAMO_WEB") ?? 8000);
Deno.serve(
  { port, hostname: "127.0.0.1" },
  () =>
    new Response("streamo: the relay and chat arrive with the server issue\n"),
);
