// The shared object build.ts makes from src/sys/native/*.c with the system's C compiler,
// gzip'd, base64. build.ts replaces this module's text when it found a compiler; run from source
// (or built without a compiler) it is null and the C is compiled by TinyCC at run time.
const prebuilt: string | null = null;
export default prebuilt;
