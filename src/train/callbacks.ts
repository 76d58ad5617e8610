// Keras' training callbacks as plain state machines, so they can be tested
// without a GPU and saved in a checkpoint for --resume.

export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  lr: number;
  seconds: number;
}

/** Keras compares with min_delta 0 for EarlyStopping and ModelCheckpoint, 1e-4 for ReduceLROnPlateau. */
export interface CallbackConfig {
  earlyStoppingPatience: number;
  reduceLrPatience: number;
  reduceLrFactor: number;
  minLr: number;
  reduceLrMinDelta: number;
}

export const KERAS_CALLBACKS: CallbackConfig = {
  earlyStoppingPatience: 10,
  reduceLrPatience: 5,
  reduceLrFactor: 0.5,
  minLr: 1e-6,
  reduceLrMinDelta: 1e-4,
};

export interface CallbackState {
  bestValLoss: number;
  bestValLossEpoch: number;
  bestValAccuracy: number;
  bestValAccuracyEpoch: number;
  epochsWithoutImprovement: number;
  plateauBest: number;
  plateauWait: number;
  lr: number;
}

export function initialCallbackState(lr: number): CallbackState {
  return {
    bestValLoss: Infinity,
    bestValLossEpoch: -1,
    bestValAccuracy: -Infinity,
    bestValAccuracyEpoch: -1,
    epochsWithoutImprovement: 0,
    plateauBest: Infinity,
    plateauWait: 0,
    lr,
  };
}

export interface CallbackDecision {
  /** val_accuracy improved: write best.safetensors (ModelCheckpoint, save_best_only). */
  saveBest: boolean;
  /** val_loss improved: remember these weights for EarlyStopping's restore_best_weights. */
  newBestLoss: boolean;
  /** EarlyStopping fired. */
  stop: boolean;
  /** Learning rate for the next epoch (ReduceLROnPlateau). */
  lr: number;
}

/** Updates `s` with one epoch's logs, in Keras' callback order. */
export function onEpochEnd(s: CallbackState, logs: EpochLogs, cfg: CallbackConfig): CallbackDecision {
  const saveBest = logs.val_accuracy > s.bestValAccuracy;
  if (saveBest) {
    s.bestValAccuracy = logs.val_accuracy;
    s.bestValAccuracyEpoch = logs.epoch;
  }
  const newBestLoss = logs.val_loss < s.bestValLoss;
  if (newBestLoss) {
    s.bestValLoss = logs.val_loss;
    s.bestValLossEpoch = logs.epoch;
    s.epochsWithoutImprovement = 0;
  } else {
    s.epochsWithoutImprovement++;
  }
  const stop = s.epochsWithoutImprovement >= cfg.earlyStoppingPatience;

  if (logs.val_loss < s.plateauBest - cfg.reduceLrMinDelta) {
    s.plateauBest = logs.val_loss;
    s.plateauWait = 0;
  } else if (++s.plateauWait >= cfg.reduceLrPatience) {
    const reduced = Math.max(s.lr * cfg.reduceLrFactor, cfg.minLr);
    if (reduced < s.lr) s.lr = reduced;
    s.plateauWait = 0;
  }
  return { saveBest, newBestLoss, stop, lr: s.lr };
}
