/**
 * Where an upstream node is: `--origin` values and `--server` addresses.
 *
 * @module
 */

/**
 * The WebSocket URL of a node given as `host:port`, `[v6]:port`, or a
 * `ws://`, `wss://`, `http://` or `https://` URL. Throws a `TypeError` that
 * quotes the value and says what is expected.
 */
export function parseOrigin(text: string, what = "--origin"): URL {
  const value = text.trim();
  const fail = (why: string) =>
    new TypeError(
      `Cannot use ${what} ${
        JSON.stringify(text)
      }: ${why} (expected host:port, e.g. localhost:8000, or a ws:// or http:// URL)`,
    );
  if (!value) throw fail("it is empty");
  let url: URL;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      url = new URL(value);
    } catch {
      throw fail("it is not a URL");
    }
    const scheme =
      { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" }[
        url.protocol
      ];
    if (!scheme) {
      throw fail(`${url.protocol} is not ws:, wss:, http: or https:`);
    }
    url = new URL(url.href.replace(/^[a-z]+:/i, scheme));
  } else {
    const m = value.match(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i);
    if (!m) throw fail("it is not host:port");
    const port = Number(m[2]);
    if (port < 1 || port > 65535) {
      throw fail(`port ${port} is not from 1 to 65535`);
    }
    try {
      url = new URL(`ws://${m[1]}:${m[2]}/`);
    } catch {
      throw fail("the host is not valid");
    }
  }
  if (!url.hostname) throw fail("it has no host");
  return url;
}

/** The HTTP URL of the node at WebSocket URL `ws` (same host, port, path). */
export function httpUrl(ws: URL): URL {
  return new URL(ws.href.replace(/^ws/, "http"));
}
