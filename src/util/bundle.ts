// What differs when the command runs from the portable build (dist/ser.mjs, made by
// scripts/build.ts) instead of from these sources through tsx. The build replaces
// this module with one where BUNDLED is true and SHADER_FILES holds every
// shaders/*.wgsl file as text, so the build needs no shaders/ folder beside it.

/** True in the portable build. */
export const BUNDLED: boolean = false;

/** shaders/*.wgsl by file name in the portable build; null here, where they are read from disk. */
export const SHADER_FILES: Readonly<Record<string, string>> | null = null;
