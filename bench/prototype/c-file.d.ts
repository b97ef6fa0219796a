// A C source imported `with { type: "file" }`: its path (in /$bunfs when compiled).
declare module "*.c" {
  const path: string;
  export default path;
}
