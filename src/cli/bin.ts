// The `ser` command's entry in the portable build: scripts/build.ts bundles this file
// into dist/ser.mjs. From the sources, bin/ser.js runs the same main() through tsx.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
