import { defineConfig } from 'vitest/config';
import { ICD_ENV, swiftshaderManifest } from './src/kernels/vulkan-icd.ts';

/**
 * The test files that run GPU kernels. They run twice: on the machine's own Vulkan
 * driver (lavapipe in CI) with the rest of the suite, and again on Google's
 * SwiftShader, an independent Vulkan implementation with other subgroup behaviour
 * (4-lane subgroups, so the portable conv3d kernels) and other limits.
 * Measured on 2 cores shared with a training run: 88 s on SwiftShader against 63 s on
 * lavapipe; model.test.ts's 32 training steps are the slowest part there (21 s).
 * Left out although they dispatch kernels: memory.test.ts (it checks our allocator's
 * bookkeeping, the same on every driver) and gpu-report.test.ts (its kernel check runs
 * the op tests' comparisons again, which this list already runs on SwiftShader).
 */
export const KERNEL_TESTS = [
  'adam', 'autograd', 'batchnorm', 'binding-slices', 'bn_relu_maxpool', 'conv3d', 'dense', 'dropout', 'frontend',
  'gap', 'gpu', 'maxpool3d', 'melspec', 'model', 'relu', 'softmax_focal', 'tiny-net', 'tune',
].map((name) => `test/${name}.test.ts`);

// scripts/setup-swiftshader.sh (run by `npm test`'s set-up) installs it; SER_SWIFTSHADER=0 leaves the pass out, loudly.
const skipSwiftshader = process.env.SER_SWIFTSHADER === '0';
if (skipSwiftshader) console.warn('vitest.config: SER_SWIFTSHADER=0, so the kernel tests do not run on SwiftShader');

export default defineConfig({
  test: {
    // One Dawn device per worker; lavapipe already uses every core, so run files one at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    // Tests run the kernels they ask for, never a tuning cache of the machine's (test/tune.test.ts tunes in a temp file).
    env: { SER_TUNE: '0' },
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'device', include: ['test/**/*.test.ts'] } },
      ...(skipSwiftshader
        ? []
        : [
            {
              extends: true,
              test: {
                name: 'swiftshader',
                include: KERNEL_TESTS,
                // The Vulkan loader reads it when Dawn creates its instance, in each test file's worker.
                env: { SER_TUNE: '0', [ICD_ENV]: swiftshaderManifest() ?? 'missing-swiftshader-manifest.json' },
                setupFiles: ['test/util/swiftshader.ts'],
              },
            },
          ]),
    ],
  },
});
