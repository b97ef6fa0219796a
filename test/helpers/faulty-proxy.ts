// A registry front that damages blob downloads on request: ends a blob's body
// halfway (once), flips a byte in one, appends bytes to one or serves half of one; everything else
// passes through to the real registry unchanged. It answers Range requests (206) unless
// told to ignore them, and records what each blob request asked for and got.
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
  /** Each blob GET: its Range header (or null) and the bytes of the body sent. */
  served: { digest: string; range: string | null; bytes: number }[];
  /** Answer Range requests with the whole blob (200), as some storage does. */
  ignoreRanges: boolean;
  stop: () => void;
}

export function startFaultyProxy(upstream: string): FaultyProxy {
  const state = {
    cutOnce: new Set<string>(), corrupt: new Set<string>(), overlong: new Set<string>(), short: new Set<string>(), blobGets: new Map<string, number>(),
    served: [] as FaultyProxy["served"], ignoreRanges: false,
  };
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
      const range = req.headers.get("range");
      const served = { digest, range, bytes: 0 };
      state.served.push(served);
      if (state.cutOnce.delete(digest)) {
        served.bytes = data.length >> 1;
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
      const from = Number(/^bytes=(\d+)-$/.exec(range ?? "")?.[1] ?? NaN);
      if (from >= 0 && from < out.length && !state.ignoreRanges) {
        served.bytes = out.length - from;
        return new Response(out.subarray(from), { status: 206, headers: { "content-range": `bytes ${from}-${out.length - 1}/${out.length}` } });
      }
      served.bytes = out.length;
      return new Response(out, { headers: { "content-type": res.headers.get("content-type") ?? "application/octet-stream" } });
    },
  });
  return Object.assign(state, { host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) });
}
