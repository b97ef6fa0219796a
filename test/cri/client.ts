// A CRI client as the kubelet is one: gRPC over containerd's unix socket, the calls of
// test/cri/cri.proto (runtime.v1 RuntimeService and ImageService). @grpc/grpc-js is the
// gRPC implementation the gRPC project maintains for JavaScript (pure JS, HTTP/2 through
// node:http2, which Bun provides); @grpc/proto-loader reads the .proto at run time, so no
// generated code is kept.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
// type "file": the .proto travels inside a compiled test binary (bun build --compile) too
import protoPath from "./cri.proto" with { type: "file" };

type Message = Record<string, unknown>;
type Call = (request: Message, options: { deadline: number }, done: (err: grpc.ServiceError | null, reply: Message) => void) => void;

/** Promise-returning calls on one gRPC service; replies are plain objects in the proto's camelCase. */
export type Service = Record<string, (request: Message, timeoutMs?: number) => Promise<any>>;

export interface CriClient {
  runtime: Service;
  image: Service;
  close(): void;
}

function promised(client: grpc.Client): Service {
  const calls: Service = {};
  for (const name of Object.keys(Object.getPrototypeOf(client))) {
    const call = (client as unknown as Record<string, Call>)[name]!;
    if (typeof call !== "function") continue;
    calls[name] = (request, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        call.call(client, request, { deadline: Date.now() + timeoutMs }, (err, reply) => {
          if (err) reject(new Error(`CRI ${name}: ${err.details || err.message}`));
          else resolve(reply);
        });
      });
  }
  return calls;
}

/** Connects to a CRI endpoint at the unix socket `socket`. */
export function connectCri(socket: string): CriClient {
  const definition = protoLoader.loadSync(protoPath, { longs: Number, enums: String, defaults: true });
  const api = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: { v1: Record<"RuntimeService" | "ImageService", typeof grpc.Client> };
  };
  const credentials = grpc.credentials.createInsecure();
  const runtime = new api.runtime.v1.RuntimeService(`unix://${socket}`, credentials);
  const image = new api.runtime.v1.ImageService(`unix://${socket}`, credentials);
  return {
    runtime: promised(runtime),
    image: promised(image),
    close() {
      runtime.close();
      image.close();
    },
  };
}
