"""The librosa peer of bench/frontend.bench.ts: the front end's work, done by librosa.

For every clip, exactly what MelFrontend.melBatch computes (src/dsp/frontend.ts):

    S  = librosa.feature.melspectrogram(y=clip, sr, n_fft, hop_length, n_mels, fmin, fmax,
                                        htk, norm, power=2.0, center=True,
                                        pad_mode="constant", window="hann")
    dB = librosa.power_to_db(S, ref=np.max, amin, top_db)
    scaled = (dB - min dB) / (max dB - min dB)     (all zeros for a constant clip)

The settings arrive as arguments, taken from the TypeScript front end's settings, so
the two sides cannot drift apart. The clips are float32, as ours are, so librosa
works in float32 (complex64 STFT, float32 filterbank) just as it does for the
golden fixtures (bench/librosa_fixtures.py).

One untimed warm-up pass over all clips comes first (library imports, FFT plans,
numba's compilation where librosa uses it, the filterbank cache), then --passes
timed passes, each the wall time of one loop over every clip. The result is one
JSON line on stdout: per-pass seconds, their median, the library versions and, if
--ours is given, the largest |dB| difference between librosa and our GPU output
on the clips it holds, over the elements where librosa's dB is above the top_db
floor (below it both sides are clamped, and the difference says nothing).

Input files (all little-endian; written by bench/librosa_peer.ts):
    --clips:  b"SERC", uint32 count, count × uint32 length, then each clip's
              float32 samples, one clip after another.
    --ours:   b"SERD", uint32 count, then count entries of
              uint32 clip index, uint32 n_mels, uint32 frames,
              float32 dB [n_mels][frames] (librosa's layout).

Run on its own (the bench does this for you):
    python bench/librosa_peer.py --clips CLIPS.bin [--ours DB.bin] [--passes 3] \
        --sr 22050 --n-fft 2048 --hop 512 --n-mels 128 --fmin 0 --fmax 11025 \
        --scale slaney --norm slaney --top-db 80 --amin 1e-10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import scipy
import librosa


def read_clips(path: str) -> list[np.ndarray]:
    """The clips of a b"SERC" file, each a float32 array (views into one buffer)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw[:4].tobytes() != b"SERC":
        raise ValueError(f"{path}: not a clip file (no SERC magic)")
    count = int(raw[4:8].view("<u4")[0])
    lengths = raw[8 : 8 + 4 * count].view("<u4").astype(np.int64)
    samples = raw[8 + 4 * count :].view("<f4")
    if samples.size != lengths.sum():
        raise ValueError(f"{path}: {samples.size} samples for clip lengths summing to {lengths.sum()}")
    ends = np.cumsum(lengths)
    return [samples[end - n : end] for n, end in zip(lengths, ends)]


def read_ours(path: str) -> dict[int, np.ndarray]:
    """Our dB per clip index, from a b"SERD" file, each [n_mels, frames] float32."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw[:4].tobytes() != b"SERD":
        raise ValueError(f"{path}: not a dB file (no SERD magic)")
    count = int(raw[4:8].view("<u4")[0])
    ours: dict[int, np.ndarray] = {}
    at = 8
    for _ in range(count):
        index, n_mels, frames = (int(v) for v in raw[at : at + 12].view("<u4"))
        at += 12
        size = 4 * n_mels * frames
        ours[index] = raw[at : at + size].view("<f4").reshape(n_mels, frames)
        at += size
    if at != raw.size:
        raise ValueError(f"{path}: {raw.size - at} bytes left after {count} entries")
    return ours


def front_end(clip: np.ndarray, a: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """librosa's dB and min-max scaled spectrogram of one clip: the front end's work."""
    power = librosa.feature.melspectrogram(
        y=clip,
        sr=a.sr,
        n_fft=a.n_fft,
        hop_length=a.hop,
        n_mels=a.n_mels,
        fmin=a.fmin,
        fmax=a.fmax,
        htk=a.scale == "htk",
        norm="slaney" if a.norm == "slaney" else None,
        power=2.0,
        center=True,
        pad_mode="constant",
        window="hann",
    )
    db = librosa.power_to_db(power, ref=np.max, amin=a.amin, top_db=a.top_db)
    # The per-clip scaling to [0, 1] is part of what MelFrontend returns, so it is
    # part of the timed work here too (it costs little next to the STFT).
    lo, hi = db.min(), db.max()
    scaled = (db - lo) / (hi - lo) if hi > lo else np.zeros_like(db)
    return db, scaled


def max_db_difference(db: np.ndarray, ours: np.ndarray, top_db: float) -> float:
    """max |librosa − ours| over the elements where librosa's dB is above the floor."""
    if db.shape != ours.shape:
        raise ValueError(f"shape mismatch: librosa {db.shape}, ours {ours.shape}")
    above = db > db.max() - top_db
    return float(np.abs(db[above] - ours[above]).max()) if above.any() else 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", required=True, help="clip file (SERC format)")
    p.add_argument("--ours", help="our dB for some clips (SERD format), to compare against")
    p.add_argument("--passes", type=int, default=3, help="timed passes over all clips (default 3)")
    p.add_argument("--sr", type=int, required=True)
    p.add_argument("--n-fft", type=int, required=True)
    p.add_argument("--hop", type=int, required=True)
    p.add_argument("--n-mels", type=int, required=True)
    p.add_argument("--fmin", type=float, required=True)
    p.add_argument("--fmax", type=float, required=True)
    p.add_argument("--scale", choices=["slaney", "htk"], required=True)
    p.add_argument("--norm", choices=["slaney", "none"], required=True)
    p.add_argument("--top-db", type=float, required=True)
    p.add_argument("--amin", type=float, required=True)
    a = p.parse_args()
    if a.passes < 1:
        p.error("--passes must be at least 1")

    clips = read_clips(a.clips)
    ours = read_ours(a.ours) if a.ours else {}

    # Warm-up pass, untimed; it also yields the dB of the clips we compare against.
    max_diff = 0.0
    for i, clip in enumerate(clips):
        db, _ = front_end(clip, a)
        if i in ours:
            max_diff = max(max_diff, max_db_difference(db, ours[i], a.top_db))

    passes = []
    for _ in range(a.passes):
        start = time.perf_counter()
        for clip in clips:
            front_end(clip, a)
        passes.append(time.perf_counter() - start)

    print(json.dumps({
        "clips": len(clips),
        "samples": int(sum(c.size for c in clips)),
        "pass_s": passes,
        "median_s": statistics.median(passes),
        "versions": {
            "librosa": librosa.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "python": sys.version.split()[0],
        },
        "compared_clips": sorted(ours),
        "max_abs_db_vs_ours": max_diff if ours else None,
    }))


if __name__ == "__main__":
    main()
