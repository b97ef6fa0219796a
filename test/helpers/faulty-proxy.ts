// A registry front that damages blob downloads on request: ends a blob's body
// halfway (once), flips a byte in one, appends bytes to one or serves half of one; everything else
// passes through to the real registry unchanged.
import type { Server } from "bun";

export interface FaultyProxy {
  host: string;
  /** Blob digests whose next download ends halfway (short of its content-length). */
  cutOnce: Set<string>;
  /** Blob digests always served with one byte changed (same length). */
  corrupt: Set<string>;
  /** Blob digests always served with extra bytes after the real ones. */
  overlong: Set<string>;
  /** Blob digests always served cut in half, with a content-length that says so. */
  short: Set<string>;
  blobGets: Map<string, number>;
  stop: () => void;
}

export function startFaultyProxy(upstream: string): FaultyProxy {
  const state = { cutOnce: new Set<string>(), corrupt: new Set<string>(), overlong: new Set<string>(), short: new Set<string>(), blobGets: new Map<string, number>() };
  const server: Server<undefined> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    error: () => new Response("proxy error", { status: 500 }),
    async fetch(req) {
      const url = new URL(req.url);
      const res = await fetch(`http://${upstream}${url.pathname}`, { method: req.method, headers: { accept: req.headers.get("accept") ?? "*/*" } });
      const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)?.[1];
      if (!digest || req.method !== "GET" || !res.ok) return new Response(res.body, { status: res.status, headers: res.headers });
      state.blobGets.set(digest, (state.blobGets.get(digest) ?? 0) + 1);
      const data = new Uint8Array(await res.arrayBuffer());
      if (state.cutOnce.delete(digest)) {
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            if (sent) return c.close(); // short of the content-length: the client sees the body end early
            sent = true;
            c.enqueue(data.subarray(0, data.length >> 1));
            await Bun.sleep(20);
          },
        });
        return new Response(body, { headers: { "content-length": String(data.length) } });
      }
      if (state.corrupt.has(digest)) data[data.length >> 1] = data[data.length >> 1]! ^ 0xff;
      const out = state.overlong.has(digest) ? Buffer.concat([data, new Uint8Array(4096)]) : state.short.has(digest) ? data.subarray(0, data.length >> 1) : data;
      return new Response(out, { headers: { "content-type": res.headers.get("content-type") ?? "application/octet-stream" } });
    },
  });
  return { ...state, host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
