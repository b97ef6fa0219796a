// A registry front for push tests: passes every method, body and upload Location through
// to a real registry, records the requests, and on request demands bearer tokens whose
// actions depend on the user (as Docker Hub's token service grants only what a user may
// do), lies that blobs exist (HEAD 200), or refuses upload chunks.
import type { Server } from "bun";

export interface PushProxy {
  host: string;
  /** Every request: method, path with query, and the headers that matter for uploads. */
  requests: { method: string; path: string; range: string | null; length: string | null }[];
  /** Query strings sent to the token service. */
  tokenRequests: string[];
  /** Blobs (digest -> size) whose HEAD is answered 200, as if the registry had them. */
  lieAbout: Map<string, number>;
  /** Answer every PATCH of an upload 400 (a registry that breaks the upload). */
  refuseChunks: boolean;
  /**
   * PATCHes still to break: the registry gets the first half of the chunk (it stores it),
   * the client a 502, as from a gateway whose connection to the registry broke mid-chunk.
   */
  cutPatches: number;
  /**
   * Upload URLs without docker-registry's `_state` (which holds the offset the URL was
   * made for): one URL per session for its whole life, as most registries give, the
   * registry's current one kept here.
   */
  stableUploadUrls: boolean;
  stop: () => void;
}

/** `users`: name -> [password, the actions its tokens may carry ("pull" or "pull,push")]; none: no auth. */
export function startPushProxy(upstream: string, users?: Record<string, [string, string]>): PushProxy {
  const tokens = new Map<string, { user: string; scopes: string[] }>();
  const state = { requests: [] as PushProxy["requests"], tokenRequests: [] as string[], lieAbout: new Map<string, number>(), refuseChunks: false, cutPatches: 0, stableUploadUrls: false };
  /** Session path -> the registry's current URL of it (with its _state), for stableUploadUrls. */
  const sessions = new Map<string, string>();
  const server: Server<undefined> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const base = `http://${url.host}`;
      if (url.pathname === "/token") {
        state.tokenRequests.push(url.search);
        const [user, password] = Buffer.from((req.headers.get("authorization") ?? "").replace(/^Basic /, ""), "base64").toString().split(":");
        const entry = users?.[user ?? ""];
        if (!entry || entry[0] !== password) return new Response("{}", { status: 401 });
        // grant each asked scope, cut to the actions this user may have
        const scopes = url.searchParams.getAll("scope").map((s) => {
          const [type, name, actions] = s.split(":");
          const allowed = (actions ?? "").split(",").filter((a) => entry[1].split(",").includes(a));
          return `${type}:${name}:${allowed.join(",")}`;
        });
        const token = `tok-${crypto.randomUUID()}`;
        tokens.set(token, { user: user!, scopes });
        return Response.json({ token });
      }
      state.requests.push({ method: req.method, path: url.pathname + url.search, range: req.headers.get("content-range"), length: req.headers.get("content-length") });
      const repo = /^\/v2\/(.+?)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1];
      if (users && repo !== undefined) {
        const write = req.method !== "GET" && req.method !== "HEAD";
        const need = write ? "push" : "pull";
        const granted = tokens.get((req.headers.get("authorization") ?? "").replace(/^Bearer /, ""));
        const has = (name: string, action: string) => granted?.scopes.some((s) => s.startsWith(`repository:${name}:`) && s.split(":")[2]!.split(",").includes(action));
        const from = url.searchParams.get("from");
        if (!has(repo, need) || (from !== null && !has(from, "pull"))) {
          const scope = `repository:${repo}:${write ? "pull,push" : "pull"}`;
          return new Response(JSON.stringify({ errors: [{ code: granted ? "DENIED" : "UNAUTHORIZED", message: granted ? "requested access to the resource is denied" : "authentication required" }] }), {
            status: 401,
            headers: { "www-authenticate": `Bearer realm="${base}/token",service="mycr-test",scope="${scope}"${granted ? ',error="insufficient_scope"' : ""}` },
          });
        }
      }
      const lie = state.lieAbout.get(url.pathname.slice(url.pathname.lastIndexOf("/") + 1));
      if (lie !== undefined && req.method === "HEAD") return new Response(null, { status: 200, headers: { "content-length": String(lie) } });
      if (state.refuseChunks && req.method === "PATCH") {
        return Response.json({ errors: [{ code: "BLOB_UPLOAD_INVALID", message: "blob upload invalid" }] }, { status: 400 });
      }
      const headers: Record<string, string> = {};
      for (const name of ["accept", "content-type", "content-range", "content-length"]) if (req.headers.has(name)) headers[name] = req.headers.get(name)!;
      let body = req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await req.arrayBuffer());
      let target = `http://${upstream}${url.pathname}${url.search}`;
      const current = sessions.get(url.pathname);
      if (current !== undefined) {
        const t = new URL(current);
        for (const [k, v] of url.searchParams) t.searchParams.set(k, v);
        target = t.href;
      }
      const cut = req.method === "PATCH" && state.cutPatches > 0 && body !== undefined && body.length > 1;
      if (cut) {
        state.cutPatches--;
        const start = Number((headers["content-range"] ?? "0-").split("-")[0]);
        body = body!.subarray(0, body!.length >> 1);
        headers["content-range"] = `${start}-${start + body.length - 1}`;
        headers["content-length"] = String(body.length);
      }
      const res = await fetch(target, { method: req.method, headers, body, redirect: "manual" });
      const out = new Headers(res.headers);
      const loc = out.get("location");
      if (loc) {
        const abs = new URL(loc, `http://${upstream}`);
        if (state.stableUploadUrls && abs.pathname.includes("/blobs/uploads/") && (res.status === 202 || res.status === 204)) {
          sessions.set(abs.pathname, abs.href);
          out.set("location", `${base}${abs.pathname}`);
        } else {
          out.set("location", loc.replace(`http://${upstream}`, base));
        }
      }
      if (cut) {
        await res.body?.cancel();
        return Response.json({ errors: [{ code: "UNKNOWN", message: "bad gateway: the registry's connection broke" }] }, { status: 502 });
      }
      return new Response(req.method === "HEAD" ? null : res.body, { status: res.status, headers: out });
    },
  });
  return Object.assign(state, { host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) });
}
