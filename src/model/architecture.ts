// The report's network as data: channel and unit counts, kernel sizes, dropout rates,
// how a width multiplier scales them, Keras' batch-norm defaults, and the dropout
// seed of each layer. Plain values with no run-time imports, so the GPU model
// (ser3dcnn.ts), the float64 reference (src/ref/ser3dcnn.ts) and the PyTorch peer's
// driver all read the one definition.

import type { Conv3dShape } from '../kernels/conv3d_shape.js';

export const CONV_CHANNELS = [64, 128, 256, 512, 512] as const;
export const CONV_KERNELS: readonly (readonly [number, number, number])[] = [
  [1, 5, 5],
  [1, 3, 3],
  [1, 3, 3],
  [1, 3, 3],
  [1, 1, 1],
];
/** After conv1–conv4 (conv5 has none). */
export const CONV_DROPOUT = [0.2, 0.3, 0.3, 0.3] as const;
export const DENSE_UNITS = [512, 256] as const;
/** After dense1 and dense2. */
export const DENSE_DROPOUT = [0.4, 0.3] as const;

/** Keras' BatchNormalization defaults. */
export const BN_EPS = 1e-3;
export const BN_MOMENTUM = 0.99;

/** A channel or unit count at a width multiplier (at least 2). */
export function scaled(units: number, width: number): number {
  return Math.max(2, Math.round(units * width));
}

/** The dropout seed of the k-th dropout layer (in forward order) of a network with seed `seed`. */
export function dropoutLayerSeed(seed: number, layer: number): number {
  return (seed * 1000 + layer) >>> 0;
}

/**
 * The network's convolutions as conv3d shapes for input [D, H, W, C] at a width and
 * batch: each of conv1–conv4 is followed by max pooling 1×2×2 (floor), conv5 by none.
 */
export function convLayerShapes(input: readonly [number, number, number, number], width: number, batch: number): Conv3dShape[] {
  let [d, h, w, cin] = input;
  return CONV_CHANNELS.map((c, i) => {
    const cout = scaled(c, width);
    const [kd, kh, kw] = CONV_KERNELS[i]!;
    const s: Conv3dShape = { n: batch, d, h, w, cin, cout, kd, kh, kw, padding: 'same' };
    if (i < CONV_DROPOUT.length) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
    cin = cout;
    return s;
  });
}
