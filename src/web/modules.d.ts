// Modules that exist only in the page's bundle (src/cli/web-bundle.ts makes them).
declare module 'ser:shaders' {
  /** shaders/<file>.wgsl by file name → its text. */
  const table: Readonly<Record<string, string>>;
  export default table;
}
