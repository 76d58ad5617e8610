import { describe, expect, it } from 'vitest';
import { initialCallbackState, KERAS_CALLBACKS, onEpochEnd, type EpochLogs } from '../src/train/callbacks.js';

function logs(epoch: number, val_loss: number, val_accuracy: number): EpochLogs {
  return { epoch, loss: 1, accuracy: 0.5, val_loss, val_accuracy, lr: 0, seconds: 1 };
}

describe('training callbacks (Keras semantics)', () => {
  it('ModelCheckpoint saves only when val_accuracy improves', () => {
    const s = initialCallbackState(1e-3);
    const acc = [0.5, 0.6, 0.6, 0.55, 0.7];
    const saves = acc.map((a, e) => onEpochEnd(s, logs(e, 1, a), KERAS_CALLBACKS).saveBest);
    expect(saves).toEqual([true, true, false, false, true]);
    expect(s.bestValAccuracyEpoch).toBe(4);
  });

  it('EarlyStopping fires after `patience` epochs without a lower val_loss', () => {
    const s = initialCallbackState(1e-3);
    const cfg = { ...KERAS_CALLBACKS, earlyStoppingPatience: 3, reduceLrPatience: 100 };
    const losses = [1.0, 0.9, 0.95, 0.91, 0.92];
    const stops = losses.map((l, e) => onEpochEnd(s, logs(e, l, 0.5), cfg).stop);
    expect(stops).toEqual([false, false, false, false, true]);
    expect(s.bestValLossEpoch).toBe(1);
  });

  it('ReduceLROnPlateau halves the rate after `patience` flat epochs, never below min_lr', () => {
    const s = initialCallbackState(4e-6);
    const cfg = { ...KERAS_CALLBACKS, reduceLrPatience: 2, earlyStoppingPatience: 100 };
    const lrs: number[] = [];
    // An improvement smaller than min_delta (1e-4) counts as a plateau.
    for (let e = 0; e < 7; e++) lrs.push(onEpochEnd(s, logs(e, 1 - e * 1e-5, 0.5), cfg).lr);
    expect(lrs).toEqual([4e-6, 4e-6, 2e-6, 2e-6, 1e-6, 1e-6, 1e-6]);
  });
});
