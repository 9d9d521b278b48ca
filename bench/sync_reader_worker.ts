/**
 * Worker for `sync_bench.ts`: runs reader sessions in their own thread (as
 * readers on other machines would), reporting when they hold every byte
 * (W3) or each message's latency (W4). Times are absolute ms
 * (`performance.timeOrigin + performance.now()`), comparable across threads.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import {
  registrySync,
  RepoRegistry,
  type SyncSession,
  useFastestBackend,
} from "../lib/mod.ts";

interface Job {
  url: string;
  key: string;
  readers: number;
  /** W3: report when the copy reaches this length. */
  length?: number;
}

const now = () => performance.timeOrigin + performance.now();
await useFastestBackend();
let sessions: SyncSession[] = [];
// Per reader: `[end, at]` pairs of each verified range's arrival.
let marks: number[][] = [];

self.onmessage = async (event: MessageEvent) => {
  const m = event.data as {
    type: string;
    job?: Job;
    sent?: { length: number; at: number }[];
  };
  if (m.type === "start") {
    const job = m.job!;
    marks = [];
    let reported = false;
    for (let r = 0; r < job.readers; r++) {
      const registry = new RepoRegistry();
      const arrivals: number[] = [];
      marks.push(arrivals);
      registry.onOpen((copy) => {
        copy.onVerified(({ end }) => {
          arrivals.push(end, now());
          if (job.length !== undefined && end >= job.length && !reported) {
            reported = true;
            self.postMessage({ type: "done", at: now() });
          }
        });
      });
      const s = registrySync(registry, {
        url: job.url,
        keepaliveMs: 0,
        filter: () => false,
      });
      sessions.push(s);
    }
    await Promise.all(sessions.map((s) => s.synced(job.key)));
    self.postMessage({ type: "synced" });
  } else if (m.type === "report") {
    // Latency of each sent message: first arrival covering its length.
    const latencies: number[] = [];
    let lost = 0;
    for (const arrivals of marks) {
      let i = 0;
      for (const s of m.sent!) {
        while (i < arrivals.length && arrivals[i] < s.length) i += 2;
        if (i >= arrivals.length) lost++;
        else latencies.push(arrivals[i + 1] - s.at);
      }
    }
    self.postMessage({ type: "report", latencies, lost });
  } else if (m.type === "stop") {
    await Promise.all(sessions.map((s) => s.close()));
    sessions = [];
    self.postMessage({ type: "stopped" });
  }
};
self.postMessage({ type: "ready" });
