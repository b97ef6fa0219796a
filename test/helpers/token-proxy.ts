// A registry front written for the tests: demands bearer tokens from its own token
// service (basic credentials in, token out, as Docker Hub's auth does), sends blob
// downloads through a redirect to a "storage" URL that refuses our credentials, can
// fail requests with 503 on purpose, and counts what was fetched.
import type { Server } from "bun";

export interface TokenProxy {
  host: string;
  blobGets: Map<string, number>;
  /** Paths (regexes) answered 503 once each. */
  failOnce: RegExp[];
  tokenRequests: string[];
  stop: () => void;
}

export function startTokenProxy(upstream: string, user: string, password: string): TokenProxy {
  const token = `tok-${crypto.randomUUID()}`;
  const state: Omit<TokenProxy, "host" | "stop"> = { blobGets: new Map(), failOnce: [], tokenRequests: [] };
  const server: Server<undefined> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const base = `http://${url.host}`;
      if (url.pathname === "/token") {
        state.tokenRequests.push(url.search);
        const want = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
        if (req.headers.get("authorization") !== want) return new Response("{}", { status: 401 });
        return Response.json({ token, expires_in: 300 });
      }
      if (url.pathname.startsWith("/storage/")) {
        // like S3: a signed URL, and an Authorization header is an error
        if (req.headers.get("authorization")) return new Response("credentials sent to storage", { status: 400 });
        return fetch(`http://${upstream}${url.searchParams.get("p")}`);
      }
      const hit = state.failOnce.findIndex((r) => r.test(url.pathname));
      if (hit >= 0) {
        state.failOnce.splice(hit, 1);
        return new Response("busy", { status: 503 });
      }
      if (req.headers.get("authorization") !== `Bearer ${token}`) {
        const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1];
        const scope = repo ? `,scope="repository:${repo}:pull"` : "";
        return new Response(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }), {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="${base}/token",service="mycr-test"${scope}` },
        });
      }
      if (/\/blobs\/sha256:/.test(url.pathname)) {
        const digest = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
        state.blobGets.set(digest, (state.blobGets.get(digest) ?? 0) + 1);
        return Response.redirect(`${base}/storage/${digest}?p=${encodeURIComponent(url.pathname)}`, 307);
      }
      const res = await fetch(`http://${upstream}${url.pathname}`, { method: req.method, headers: { accept: req.headers.get("accept") ?? "*/*" } });
      return new Response(res.body, { status: res.status, headers: res.headers });
    },
  });
  return { ...state, host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
