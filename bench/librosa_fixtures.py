"""Golden mel spectrograms for test/melspec.test.ts, computed by librosa.

Inputs: a few of EmoDB's original recordings (../shared/data/emodb-original: mono
16-bit PCM at 16 kHz, 1.2-9 s), read as int16 / 32768 in float32 at their native
16000 Hz. The front end is tested at that rate so that the goldens check the
spectrogram alone; the resampler that brings other rates to the model's 22050 Hz
has its own test (test/resample.test.ts).

For every setting in SETTINGS and each of its files, the front end's semantics
(src/dsp/frontend.ts, docs/FRONTEND.md):

    S  = librosa.feature.melspectrogram(y=clip, sr=16000, n_fft, hop_length, n_mels,
                                        fmin, fmax, htk, norm, power=2.0, center=True,
                                        pad_mode="constant", window="hann")
    dB = librosa.power_to_db(S, ref=np.max, amin=1e-10, top_db=80)

and once per setting the filterbank that S was projected with,
librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm) (float32).

Output, per setting NAME, in --out (default test/fixtures/librosa/):
    NAME.f32   float32 little-endian, one array after another: the filterbank's
               non-zero span of each row in turn, then per file its power and its dB,
               each [n_mels][frames] row-major (librosa's layout).
    NAME.json  the parameters, library versions, and where each array lies in
               NAME.f32 (offsets in float32 elements); per file the WAV's
               name, sample count and SHA-256, so a test can tell a changed input
               from a changed front end. filterbank.spans[m] = [a, b] says row m is
               zero outside bins a..b-1 (a = b for an empty row); its b - a values
               come next in NAME.f32.

Run from the repository root (scripts/setup-librosa.sh makes .venv-librosa):
    bash scripts/setup-librosa.sh
    .venv-librosa/bin/python bench/librosa_fixtures.py [--data DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import wave
from pathlib import Path

import numpy as np
import scipy
import librosa

ROOT = Path(__file__).resolve().parent.parent
SR = 16000
TO_DB = {"ref": "max", "amin": 1e-10, "top_db": 80.0}

# The files span all 8 speakers and all 7 emotions, with the corpus' shortest clip
# (12a02Ac, 1.23 s) and longest (08b03Tc, 8.98 s). The two-file settings take one
# clip with an odd and one with an even frame count at their hop, since the GPU
# transforms frames in pairs and pads an odd count with an empty slot.
SETTINGS = {
    # librosa's defaults (the model's setting, at 16 kHz here).
    "default": {
        "params": {"n_fft": 2048, "hop_length": 512, "n_mels": 128, "fmin": 0.0, "fmax": None, "htk": False, "norm": "slaney"},
        "files": ["03a01Fa", "08b03Tc", "09a07Na", "10a02Lb", "11a01Wc", "12a02Ac", "13a01Ea", "14a07Aa"],
    },
    # Fewer mels over a band that starts above 0 Hz; fmax given, equal to Nyquist.
    "small": {
        "params": {"n_fft": 1024, "hop_length": 256, "n_mels": 40, "fmin": 50.0, "fmax": 8000.0, "htk": False, "norm": "slaney"},
        "files": ["03a01Fa", "11a01Wc"],
    },
    # HTK mel scale without norm; hop 160 does not divide n_fft 512; fmax below Nyquist.
    "htk": {
        "params": {"n_fft": 512, "hop_length": 160, "n_mels": 64, "fmin": 20.0, "fmax": 7600.0, "htk": True, "norm": None},
        "files": ["14a07Aa", "13a01Ea"],
    },
}


def read_pcm16(path: Path) -> tuple[np.ndarray, bytes]:
    """A mono 16-bit PCM WAV at SR as int16 / 32768 (float32), and the file's bytes."""
    data = path.read_bytes()
    with wave.open(str(path), "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, SR):
            raise ValueError(f"{path}: expected mono 16-bit PCM at {SR} Hz, got {w.getnchannels()} ch, {8 * w.getsampwidth()} bit, {w.getframerate()} Hz")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / np.float32(32768), data


def make_setting(name: str, spec: dict, data_dir: Path, out_dir: Path, versions: dict) -> int:
    """Writes NAME.f32 and NAME.json for one setting; returns the bytes written to NAME.f32."""
    p = spec["params"]
    mel_args = dict(sr=SR, n_fft=p["n_fft"], n_mels=p["n_mels"], fmin=p["fmin"], fmax=p["fmax"], htk=p["htk"], norm=p["norm"])
    arrays: list[np.ndarray] = []
    at = 0

    def put(a: np.ndarray) -> int:
        nonlocal at
        a = np.ascontiguousarray(a, dtype="<f4").ravel()
        arrays.append(a)
        at += a.size
        return at - a.size

    fb = librosa.filters.mel(**mel_args)
    if fb.dtype != np.float32:
        raise TypeError(f"librosa.filters.mel returned {fb.dtype}, not float32")
    spans = []
    fb_offset = at
    for row in fb:
        nz = np.flatnonzero(row)
        a, b = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 0)
        spans.append([a, b])
        put(row[a:b])

    files = []
    for stem in spec["files"]:
        wav = f"{stem}.wav"
        clip, raw = read_pcm16(data_dir / wav)
        power = librosa.feature.melspectrogram(
            y=clip, hop_length=p["hop_length"], power=2.0, center=True, pad_mode="constant", window="hann", **mel_args
        )
        db = librosa.power_to_db(power, ref=np.max, amin=TO_DB["amin"], top_db=TO_DB["top_db"])
        # librosa works in float32 on a float32 clip; a float64 result would mean it did not.
        if power.dtype != np.float32 or db.dtype != np.float32:
            raise TypeError(f"{wav}: librosa returned {power.dtype} / {db.dtype}, not float32")
        files.append({
            "wav": wav,
            "samples": int(clip.size),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "shape": list(power.shape),
            "power": put(power),
            "db": put(db),
        })

    blob = np.concatenate(arrays)
    (out_dir / f"{name}.f32").write_bytes(blob.tobytes())
    manifest = {
        "made_by": "bench/librosa_fixtures.py",
        "versions": versions,
        "input": f"EmoDB original recordings (mono 16-bit PCM, {SR} Hz) read as int16 / 32768 in float32, not resampled",
        "params": {"sr": SR, **p, "power": 2.0, "center": True, "pad_mode": "constant", "window": "hann (periodic)", "to_db": TO_DB},
        "data": f"{name}.f32",
        "layout": "float32 little-endian; offsets and sizes in elements; power and db row-major [n_mels][frames]",
        "filterbank": {"offset": fb_offset, "shape": list(fb.shape), "spans": spans},
        "files": files,
    }
    # One line per [a, b] pair (spans, shapes) keeps the file short enough to read.
    text = re.sub(r"\[\s+(\d+),\s+(\d+)\s+\]", r"[\1, \2]", json.dumps(manifest, indent=1))
    (out_dir / f"{name}.json").write_text(text + "\n")
    return blob.nbytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "emodb-original", help="folder of EmoDB's original WAVs")
    ap.add_argument("--out", type=Path, default=ROOT / "test" / "fixtures" / "librosa", help="folder to write NAME.f32 and NAME.json to")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    versions = {"librosa": librosa.__version__, "numpy": np.__version__, "scipy": scipy.__version__, "python": sys.version.split()[0]}
    for name, spec in SETTINGS.items():
        size = make_setting(name, spec, a.data, a.out, versions)
        print(f"{a.out / name}.f32: {size} bytes, {len(spec['files'])} files")


if __name__ == "__main__":
    main()
