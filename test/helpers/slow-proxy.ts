// A registry front that passes everything through but sends blobs slowly (a chunk, a
// pause, a chunk...), so a test can watch a download in progress on a fast loopback;
// it can also break a blob download off midway once, as a flaky network does.
import type { Server } from "bun";

export interface SlowProxy {
  host: string;
  /** Bytes sent between pauses, and the pause; change them between pulls. */
  chunk: number;
  pauseMs: number;
  /** The next download of a blob larger than this stops after this many bytes (the connection dropped). */
  breakNextAfter?: number;
  stop: () => void;
}

export function startSlowProxy(upstream: string, chunk = 64 * 1024, pauseMs = 50): SlowProxy {
  const proxy: Omit<SlowProxy, "host" | "stop"> = { chunk, pauseMs };
  const server: Server<undefined> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const headers: Record<string, string> = {};
      for (const name of ["accept", "authorization"]) if (req.headers.has(name)) headers[name] = req.headers.get(name)!;
      const res = await fetch(`http://${upstream}${url.pathname}${url.search}`, { method: req.method, headers, redirect: "manual" });
      if (req.method !== "GET" || !/\/blobs\/sha256:/.test(url.pathname) || !res.ok || !res.body) {
        return new Response(res.body, { status: res.status, headers: res.headers });
      }
      const data = new Uint8Array(await res.arrayBuffer());
      const breakAt = proxy.breakNextAfter !== undefined && data.length > proxy.breakNextAfter ? proxy.breakNextAfter : undefined;
      if (breakAt !== undefined) proxy.breakNextAfter = undefined;
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (breakAt !== undefined && sent >= breakAt) return controller.error(new Error("connection dropped on purpose"));
          if (sent >= data.length) return controller.close();
          if (sent > 0) await Bun.sleep(proxy.pauseMs);
          const end = Math.min(data.length, sent + proxy.chunk, breakAt ?? Infinity);
          controller.enqueue(data.slice(sent, end));
          sent = end;
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": res.headers.get("content-type") ?? "application/octet-stream", "content-length": String(data.length) } });
    },
  });
  return Object.assign(proxy, { host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) });
}
