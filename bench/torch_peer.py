#!/usr/bin/python3
"""The report's network in PyTorch with Keras' semantics: the peer that our engine is
checked against, step for step (test/torch-parity.test.ts), over whole training runs
(bench/emodb_results.ts --engine torch) and for speed (ser bench --compare torch).

It never makes its own inputs: weights, features, labels, batch order and (for the
step-for-step check) dropout masks come from ser-webgpu in safetensors files, in our
layouts (channels-last activations [N, D, H, W, C], conv kernels [kd, kh, kw, Cin, Cout],
dense kernels [in, out]); parameters keep those layouts here too and are permuted inside
forward(), so gradients and weights come back comparable element for element.

Keras semantics, written out rather than taken from torch.nn where PyTorch differs:
  - BatchNormalization: biased batch variance for normalising *and* for the moving
    variance (torch.nn.BatchNorm uses the unbiased one for the running estimate),
    epsilon 1e-3, moving = momentum * moving + (1 - momentum) * batch (torch's momentum
    is 1 minus Keras').
  - Adam: Keras' form, lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t), p -= lr_t m / (sqrt(v) + eps),
    eps 1e-7 (torch.optim.Adam adds eps to sqrt(v_hat), which differs by a factor
    sqrt(1 - b2^t) in eps).
  - Focal loss: CategoricalFocalCrossentropy(from_logits) with one-hot targets,
    -alpha[y] (1 - q)^gamma log q, q = clip(p_y, 1e-7, 1 - 1e-7), mean over the batch.
  - Conv3D 'same' with odd kernels is symmetric zero padding; MaxPooling3D 'valid'.

Commands (each reads and writes files in DIR; see the functions below):
  torch_peer.py parity DIR   step-for-step run for the parity test
  torch_peer.py train DIR    a whole training run with Keras' callbacks
  torch_peer.py bench DIR    train-step and forward timings, printed as JSON
Needs Debian's python3-torch (PyTorch 1.13, CPU) and numpy; nothing else.
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)
# PyTorch's own default here is one thread on some machines; use every core unless told otherwise.
torch.set_num_threads(int(os.environ.get('SER_TORCH_THREADS', os.cpu_count() or 1)))

CONV_KERNELS = [(1, 5, 5), (1, 3, 3), (1, 3, 3), (1, 3, 3), (1, 1, 1)]
CONV_DROPOUT = [0.2, 0.3, 0.3, 0.3]
DENSE_DROPOUT = [0.4, 0.3]
BN_EPS = 1e-3

# --- safetensors (the format of src/model/safetensors.ts) -------------------------
DTYPES = {'F32': np.float32, 'F64': np.float64, 'I32': np.int32, 'U32': np.uint32, 'U8': np.uint8, 'I64': np.int64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        out[name] = np.frombuffer(raw, dtype=DTYPES[e['dtype']], count=(b - a) // np.dtype(DTYPES[e['dtype']]).itemsize,
                                  offset=base + a).reshape(e['shape']).copy()
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    names = {v: k for k, v in DTYPES.items()}
    header, chunks, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        b = arr.tobytes()
        header[name] = {'dtype': names[arr.dtype.type], 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    js = json.dumps(header).encode()
    js += b' ' * ((8 - len(js) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)) + js)
        for c in chunks:
            f.write(c)


# --- the network ------------------------------------------------------------------
class KerasBatchNorm:
    """Keras' BatchNormalization of dim 1 (the channels of NCDHW, the units of [N, C]).

    fused=False writes Keras' formula out in elementwise ops, which autograd
    differentiates: the form the step-for-step parity test checks against ours.
    fused=True (whole runs) computes the same function with torch's fused kernel, which
    in training normalises with the batch's mean and biased variance and differentiates
    through both, as Keras does; only the moving averages are kept here, because torch's
    own would take the unbiased variance where Keras takes the biased one. The written-out
    form spends about two thirds of a training step's CPU time in its elementwise ops;
    the parity test checks that both forms give the same losses and gradients."""

    def __init__(self, gamma, beta, mean, var, fused):
        self.gamma, self.beta, self.mean, self.var, self.fused = gamma, beta, mean, var, fused

    def __call__(self, x, training, momentum, axes):
        if self.fused:
            if training:
                with torch.no_grad():
                    v, m = torch.var_mean(x, dim=axes, unbiased=False)
                    self.mean.mul_(momentum).add_((1 - momentum) * m)
                    self.var.mul_(momentum).add_((1 - momentum) * v)
                return F.batch_norm(x, None, None, self.gamma, self.beta, True, 0.0, BN_EPS)
            return F.batch_norm(x, self.mean, self.var, self.gamma, self.beta, False, 0.0, BN_EPS)
        shape = [1] * x.dim()
        shape[1] = -1
        if training:
            m = x.mean(dim=axes, keepdim=True)
            v = ((x - m) ** 2).mean(dim=axes, keepdim=True)
            with torch.no_grad():
                self.mean.mul_(momentum).add_((1 - momentum) * m.reshape(-1))
                self.var.mul_(momentum).add_((1 - momentum) * v.reshape(-1))
        else:
            m, v = self.mean.reshape(shape), self.var.reshape(shape)
        return self.gamma.reshape(shape) * (x - m) / torch.sqrt(v + BN_EPS) + self.beta.reshape(shape)


class Ser3dCnn:
    """Parameters and batch-norm state in our names and layouts; forward() in NCDHW.

    native=True is the network as a PyTorch user would write it for speed: torch's fused
    batch-norm kernel (the same normalisation; only its running variance is the unbiased
    estimate) and kernels converted to PyTorch's layout once, not per step. The timing
    command uses it; parity and whole runs keep Keras' semantics (native=False)."""

    def __init__(self, tensors, bn_momentum, native=False, fused_bn=True):
        self.bn_momentum = bn_momentum
        self.native = native
        self.params = {}
        self.states = {}
        for name, arr in tensors.items():
            if name.endswith('.adam_m') or name.endswith('.adam_v'):
                continue
            t = torch.from_numpy(np.array(arr, dtype=np.float32))
            if name.endswith('.moving_mean') or name.endswith('.moving_variance'):
                self.states[name] = t
            else:
                self.params[name] = t.requires_grad_(True)
        self.n_conv = sum(1 for k in self.params if k.startswith('conv') and k.endswith('.kernel'))
        self.n_dense = sum(1 for k in self.params if k.startswith('dense') and k.endswith('.kernel'))
        self.bns = {}
        for i in range(1, self.n_conv + self.n_dense):
            p = f'bn{i}'
            if f'{p}.gamma' in self.params:
                self.bns[p] = KerasBatchNorm(self.params[f'{p}.gamma'], self.params[f'{p}.beta'],
                                             self.states[f'{p}.moving_mean'], self.states[f'{p}.moving_variance'], fused_bn)
        if native:
            # Conv kernels as PyTorch's own parameters ([Cout, Cin, kd, kh, kw], contiguous).
            for i in range(self.n_conv):
                name = f'conv{i + 1}.kernel'
                self.params[name] = self.params[name].detach().permute(4, 3, 0, 1, 2).contiguous().requires_grad_(True)
            self.torch_layout = {k: v for k, v in self.params.items() if k.startswith('conv') and k.endswith('.kernel')}

    def forward(self, x, training, dropout=None, momentum=None):
        """x: [N, D, H, W, C] channels-last. dropout: None (off), 'torch' (torch's RNG) or
        a function (layer, shape_ndhwc) -> keep mask of that shape (ours, exported)."""
        mom = self.bn_momentum if momentum is None else momentum
        layer = 0

        def drop(h, rate):
            nonlocal layer
            k = layer
            layer += 1
            if not training or dropout is None:
                return h
            if dropout == 'torch':
                return F.dropout(h, rate, training=True)
            if h.dim() == 5:
                n, c, d, hh, w = h.shape
                mask = dropout(k, (n, d, hh, w, c)).permute(0, 4, 1, 2, 3)
            else:
                mask = dropout(k, tuple(h.shape))
            return h * mask / (1 - rate)

        def bn(name, h, axes):
            if not self.native:
                return self.bns[name](h, training, mom, axes)
            b = self.bns[name]
            return F.batch_norm(h, b.mean, b.var, b.gamma, b.beta, training, 1 - mom, BN_EPS)

        h = x.permute(0, 4, 1, 2, 3)
        for i in range(self.n_conv):
            name = f'conv{i + 1}.kernel'
            w = self.torch_layout[name] if self.native else self.params[name].permute(4, 3, 0, 1, 2)
            kd, kh, kw = w.shape[2:]
            h = F.conv3d(h, w, self.params[f'conv{i + 1}.bias'], padding=(kd // 2, kh // 2, kw // 2))
            h = bn(f'bn{i + 1}', h, (0, 2, 3, 4))
            if i < len(CONV_DROPOUT):
                h = F.max_pool3d(F.relu(h), kernel_size=(1, 2, 2))
                h = drop(h, CONV_DROPOUT[i])
        h = h.mean(dim=(2, 3, 4))
        for i in range(self.n_dense):
            h = h @ self.params[f'dense{i + 1}.kernel'] + self.params[f'dense{i + 1}.bias']
            if f'bn{self.n_conv + i + 1}' in self.bns:
                h = F.relu(bn(f'bn{self.n_conv + i + 1}', h, (0,)))
                h = drop(h, DENSE_DROPOUT[i])
        return h

    def named(self):
        out = {k: v.detach().numpy().copy() for k, v in self.params.items()}
        out.update({k: v.numpy().copy() for k, v in self.states.items()})
        return out

    def load(self, named):
        with torch.no_grad():
            for k, v in named.items():
                (self.params.get(k) if k in self.params else self.states[k]).copy_(torch.from_numpy(v))


def focal_loss(logits, labels, alpha, gamma):
    """Per-sample loss and softmax probabilities."""
    p = torch.softmax(logits, dim=1)
    q = p.gather(1, labels.view(-1, 1)).squeeze(1).clamp(1e-7, 1 - 1e-7)
    return -alpha[labels] * (1 - q) ** gamma * torch.log(q), p


class KerasAdam:
    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-7):
        self.params, self.b1, self.b2, self.eps, self.t = params, beta1, beta2, eps, 0
        self.m = {k: torch.zeros_like(p) for k, p in params.items()}
        self.v = {k: torch.zeros_like(p) for k, p in params.items()}

    @torch.no_grad()
    def step(self, lr):
        self.t += 1
        lr_t = lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for k, p in self.params.items():
            g = p.grad
            self.m[k].mul_(self.b1).add_((1 - self.b1) * g)
            self.v[k].mul_(self.b2).add_((1 - self.b2) * g * g)
            p.sub_(lr_t * self.m[k] / (torch.sqrt(self.v[k]) + self.eps))


def zero_grads(model):
    for p in model.params.values():
        p.grad = None


# --- parity: a fixed number of steps on given batches --------------------------------
def cmd_parity(d):
    """DIR/peer.json {bnMomentum, gamma, lr, steps, dropout: bool, fusedBn: bool (default
    false: batch norm written out, see KerasBatchNorm)}; DIR/init.safetensors
    (our weights); DIR/batches.safetensors: x [steps, n, D, H, W, C], y [steps, n] (I32),
    alpha [classes], mask.<step>.<layer> (U8, channels-last) when dropout is on.
    Writes DIR/torch.safetensors: loss [steps] (batch means), grad.<name> after step 1,
    <name> for every weight and batch-norm statistic after the last step."""
    cfg = json.load(open(f'{d}/peer.json'))
    init, _ = read_safetensors(f'{d}/init.safetensors')
    batches, _ = read_safetensors(f'{d}/batches.safetensors')
    model = Ser3dCnn(init, cfg['bnMomentum'], fused_bn=cfg.get('fusedBn', False))
    opt = KerasAdam(model.params)
    alpha = torch.from_numpy(batches['alpha'])
    out = {}
    losses = []
    for s in range(cfg['steps']):
        x = torch.from_numpy(batches['x'][s])
        y = torch.from_numpy(batches['y'][s].astype(np.int64))
        masks = None
        if cfg['dropout']:
            masks = lambda k, shape, s=s: torch.from_numpy(batches[f'mask.{s}.{k}'].astype(np.float32)).reshape(shape)
        zero_grads(model)
        loss, _ = focal_loss(model.forward(x, True, masks), y, alpha, cfg['gamma'])
        loss = loss.mean()
        loss.backward()
        losses.append(loss.item())
        if s == 0:
            for k, p in model.params.items():
                out[f'grad.{k}'] = p.grad.numpy().copy()
        opt.step(cfg['lr'])
    out['loss'] = np.array(losses, dtype=np.float32)
    out.update(model.named())
    write_safetensors(f'{d}/torch.safetensors', out)


# --- train: a whole run with Keras' callbacks -------------------------------------------
class Callbacks:
    """The state machine of src/train/callbacks.ts (EarlyStopping on val_loss,
    ModelCheckpoint on val_accuracy, ReduceLROnPlateau), line for line."""

    def __init__(self, cfg, lr):
        self.cfg = cfg
        self.best_loss, self.best_loss_epoch = math.inf, -1
        self.best_acc, self.best_acc_epoch = -math.inf, -1
        self.wait, self.plateau_best, self.plateau_wait, self.lr = 0, math.inf, 0, lr

    def on_epoch_end(self, logs):
        save_best = logs['val_accuracy'] > self.best_acc
        if save_best:
            self.best_acc, self.best_acc_epoch = logs['val_accuracy'], logs['epoch']
        new_best_loss = logs['val_loss'] < self.best_loss
        if new_best_loss:
            self.best_loss, self.best_loss_epoch, self.wait = logs['val_loss'], logs['epoch'], 0
        else:
            self.wait += 1
        stop = self.wait >= self.cfg['earlyStoppingPatience']
        if logs['val_loss'] < self.plateau_best - self.cfg['reduceLrMinDelta']:
            self.plateau_best, self.plateau_wait = logs['val_loss'], 0
        else:
            self.plateau_wait += 1
            if self.plateau_wait >= self.cfg['reduceLrPatience']:
                self.lr = max(self.lr * self.cfg['reduceLrFactor'], self.cfg['minLr'])
                self.plateau_wait = 0
        return save_best, new_best_loss, stop


def evaluate(model, x, y, alpha, gamma, batch):
    probs, losses = [], []
    with torch.no_grad():
        for s in range(0, len(y), batch):
            loss, p = focal_loss(model.forward(x[s:s + batch], False), y[s:s + batch], alpha, gamma)
            probs.append(p)
            losses.append(loss)
    p = torch.cat(probs)
    pred = p.argmax(dim=1)
    return torch.cat(losses).mean().item(), (pred == y).float().mean().item(), pred.numpy().astype(np.int32)


def cmd_train(d):
    """DIR/peer.json {bnMomentum, gamma, lr, batch, epochs, recalibrateBatches, callbacks,
    seed}; DIR/init.safetensors; DIR/data.safetensors: {train,val,test}_x, _y (I32), alpha,
    order [epochs, n_train] (I32, our shuffles). Writes DIR/history.json (one entry per epoch,
    as our history.json), DIR/best.safetensors (best val_accuracy, our names and layouts),
    DIR/test_pred.safetensors (pred: I32 per test clip); history.json is rewritten after
    every epoch and each epoch's logs are printed as a JSON line.
    After every epoch the whole state (weights, batch-norm statistics, Adam's moments,
    the callbacks, the best weights so far, history and PyTorch's RNG, which draws the
    dropout masks) goes to DIR/last.pt, written to a temporary file and renamed; a run
    started again in the same DIR with the same peer.json continues after that epoch
    and repeats what the uninterrupted run would have done."""
    cfg = json.load(open(f'{d}/peer.json'))
    torch.manual_seed(cfg['seed'])
    init, _ = read_safetensors(f'{d}/init.safetensors')
    data, _ = read_safetensors(f'{d}/data.safetensors')
    model = Ser3dCnn(init, cfg['bnMomentum'])
    opt = KerasAdam(model.params)
    alpha = torch.from_numpy(data['alpha'])
    gamma, batch = cfg['gamma'], cfg['batch']
    tx, ty = torch.from_numpy(data['train_x']), torch.from_numpy(data['train_y'].astype(np.int64))
    vx, vy = torch.from_numpy(data['val_x']), torch.from_numpy(data['val_y'].astype(np.int64))
    cb = Callbacks(cfg['callbacks'], cfg['lr'])
    history, best, stopped = [], None, False
    last = f'{d}/last.pt'
    if os.path.exists(last):
        state = torch.load(last)
        if state['cfg'] == cfg:
            model.load(state['model'])
            opt.t = state['adam_t']
            opt.m = {k: torch.from_numpy(v) for k, v in state['adam_m'].items()}
            opt.v = {k: torch.from_numpy(v) for k, v in state['adam_v'].items()}
            cb.__dict__.update(state['callbacks'])
            history, best, stopped = state['history'], state['best'], state['stopped']
            torch.set_rng_state(state['rng'])
            print(f'{d}: resuming after epoch {len(history)}', file=sys.stderr, flush=True)
        else:
            print(f'{d}: last.pt is from other settings; starting afresh', file=sys.stderr, flush=True)
    n = len(ty)
    for epoch in range(len(history), 0 if stopped else cfg['epochs']):
        t0 = time.time()
        order = torch.from_numpy(data['order'][epoch].astype(np.int64))
        loss_sum, correct = 0.0, 0
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            zero_grads(model)
            loss, p = focal_loss(model.forward(tx[idx], True, 'torch'), ty[idx], alpha, gamma)
            loss.mean().backward()
            opt.step(cb.lr)
            loss_sum += loss.sum().item()
            correct += (p.argmax(dim=1) == ty[idx]).sum().item()
        if cfg['recalibrateBatches']:
            # Precise BN, as Engine.recalibrateBatchNorm: the plain mean of the batch statistics
            # of the epoch's first batches, without dropout.
            with torch.no_grad():
                for i, s in enumerate(range(0, n, batch)):
                    if i >= cfg['recalibrateBatches']:
                        break
                    model.forward(tx[order[s:s + batch]], True, None, momentum=i / (i + 1))
        val_loss, val_acc, _ = evaluate(model, vx, vy, alpha, gamma, batch)
        logs = {'epoch': epoch, 'loss': loss_sum / n, 'accuracy': correct / n, 'val_loss': val_loss,
                'val_accuracy': val_acc, 'lr': cb.lr, 'seconds': time.time() - t0}
        history.append(logs)
        save_best, _, stop = cb.on_epoch_end(logs)
        if save_best:
            best = model.named()
        print(json.dumps(logs), flush=True)
        json.dump(history, open(f'{d}/history.json', 'w'))
        torch.save({'cfg': cfg, 'model': model.named(), 'adam_t': opt.t,
                    'adam_m': {k: v.numpy().copy() for k, v in opt.m.items()},
                    'adam_v': {k: v.numpy().copy() for k, v in opt.v.items()},
                    'callbacks': {k: v for k, v in cb.__dict__.items() if k != 'cfg'},
                    'history': history, 'best': best, 'stopped': stop, 'rng': torch.get_rng_state()}, f'{last}.tmp')
        os.replace(f'{last}.tmp', last)
        if stop:
            break
    write_safetensors(f'{d}/best.safetensors', best)
    model.load(best)
    ex, ey = torch.from_numpy(data['test_x']), torch.from_numpy(data['test_y'].astype(np.int64))
    _, _, pred = evaluate(model, ex, ey, alpha, gamma, batch)
    write_safetensors(f'{d}/test_pred.safetensors', {'pred': pred})


# --- bench: train-step and forward timings ----------------------------------------------
def cmd_bench(d):
    """DIR/peer.json {bnMomentum, gamma, iterations, warmup}; DIR/init.safetensors (our
    weights); DIR/batch.safetensors: x [n, D, H, W, C], y [n] (I32), alpha [classes].
    Writes DIR/probs.safetensors (softmax of the first inference forward, before any step,
    to check the network against ours before timing) and prints one JSON line:
    {"train_ms": [...], "forward_ms": [...], "threads": n, "torch": version}, per-iteration
    times of one training step (forward, loss, backward, Adam) and one inference forward."""
    cfg = json.load(open(f'{d}/peer.json'))
    init, _ = read_safetensors(f'{d}/init.safetensors')
    b, _ = read_safetensors(f'{d}/batch.safetensors')
    model = Ser3dCnn(init, cfg['bnMomentum'], native=True)
    # torch.optim.Adam: PyTorch's own (multi-tensor) implementation; ε placement differs from
    # Keras' by a factor √(1 − β2^t), immaterial for timing.
    opt = torch.optim.Adam(model.params.values(), lr=1e-3, eps=1e-7, foreach=True)
    x, y, alpha = torch.from_numpy(b['x']), torch.from_numpy(b['y'].astype(np.int64)), torch.from_numpy(b['alpha'])

    def forward():
        with torch.no_grad():
            return torch.softmax(model.forward(x, False), dim=1)

    write_safetensors(f'{d}/probs.safetensors', {'probs': forward().numpy()})

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss, _ = focal_loss(model.forward(x, True, 'torch'), y, alpha, cfg['gamma'])
        loss.mean().backward()
        opt.step()
        loss.sum().item()

    out = {'threads': torch.get_num_threads(), 'torch': torch.__version__}
    for name, fn in (('forward_ms', forward), ('train_ms', train_step)):
        for _ in range(cfg['warmup']):
            fn()
        times = []
        for _ in range(cfg['iterations']):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = times
    print(json.dumps(out))


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('parity', 'train', 'bench'):
        sys.stderr.write(__doc__)
        sys.exit(2)
    {'parity': cmd_parity, 'train': cmd_train, 'bench': cmd_bench}[sys.argv[1]](sys.argv[2])
