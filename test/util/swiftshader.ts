// Set-up of vitest's `swiftshader` project (vitest.config.ts): each kernel test
// file must really run on SwiftShader, or fail saying why; never pass on whatever
// driver the loader happened to find.
import { existsSync } from 'node:fs';
import { beforeAll } from 'vitest';
import { getGpu } from '../../src/kernels/gpu.js';
import { ICD_ENV } from '../../src/kernels/vulkan-icd.js';

beforeAll(async () => {
  const manifest = process.env[ICD_ENV] ?? '';
  if (!existsSync(manifest)) {
    throw new Error(`SwiftShader is not installed (${ICD_ENV}=${manifest}): run \`bash scripts/setup-swiftshader.sh\`, or set SER_SWIFTSHADER=0 to leave out the SwiftShader pass`);
  }
  const gpu = await getGpu();
  if (gpu.summary.architecture !== 'swiftshader') {
    throw new Error(`the swiftshader project runs on '${gpu.summary.description}', not SwiftShader (${ICD_ENV}=${manifest})`);
  }
});
