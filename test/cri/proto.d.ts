// `import p from "./x.proto" with { type: "file" }`: Bun gives the file's path (inside a
// compiled binary, a path in its embedded files).
declare module "*.proto" {
  const path: string;
  export default path;
}
