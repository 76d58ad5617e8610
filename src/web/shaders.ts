// Every WGSL file of shaders/ by name, as text: the module `ser:shaders` is
// generated at bundle time from the files on disk (src/cli/web-bundle.ts), so the
// page compiles the same shaders as the command line, never a copy.
import table from 'ser:shaders';

export const SHADERS: Readonly<Record<string, string>> = table;
