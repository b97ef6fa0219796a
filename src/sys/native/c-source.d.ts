// C sources are imported as files (`with { type: "file" }`): the default export is the
// path (inside a compiled binary, of the copy it carries), read only when TinyCC compiles it.
declare module "*.c" {
  const path: string;
  export default path;
}
