#!/usr/bin/env bash
# The GPU report: on a machine with a GPU, one command runs, in turn,
#   doctor    ser doctor --json                       adapter, limits, features, self-test
#   kernels   ser doctor --kernels --json             every op against its float64 reference
#   tune      ser tune --json                         conv3d kernel choice by measurement
#   bench     ser bench --json --batch 8,32 --width 1 training step, inference, peak GPU memory, per-kernel timings
#   frontend  ser bench --frontend DATA --json        GPU mel front end against the float64 reference
#   train     ser train --data emodb=DATA --epochs 3  full-width EmoDB training and its test report
# and writes OUT/report.json: every step's exit code, seconds and parsed JSON result,
# and a summary; beside it each step's stdout (STEP.out) and stderr (STEP.log), the
# tuning cache the run made and used (conv3d-tuning.json) and the training run folder.
# A step that fails is recorded as failed and the next one runs.
#
# Needs only `node` (>= 20) on PATH (or $NODE), the portable build (dist/, from
# `npm run build`; this script is copied into it) and node_modules/webgpu beside
# dist/. No npm, no network.
#
#   bash dist/gpu-report.sh [--data DIR] [--out DIR] [--epochs N] [--quick]
#
#   --data DIR   the folder of EmoDB's .wav files as distributed (default ../shared/data/emodb-original)
#   --out DIR    where the report goes (default gpu-report-YYYYmmdd-HHMMSS)
#   --epochs N   training epochs (default 3; 1 with --quick)
#   --quick      a check of the script itself in minutes on a CPU driver: tune, bench (batch 2)
#                and train the 1/8-width network, 8 front-end clips
#   SER_STEP_TIMEOUT   seconds before a step is stopped (default 3600)
set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/ser.mjs" ]; then ser="$here/ser.mjs"
elif [ -f "$here/../dist/ser.mjs" ]; then ser=$(cd "$here/../dist" && pwd)/ser.mjs
else echo "gpu-report: no ser.mjs beside this script or in ../dist; run npm run build first" >&2; exit 2; fi
node=${NODE:-node}
command -v "$node" > /dev/null || { echo "gpu-report: no '$node' on PATH (set NODE=/path/to/node)" >&2; exit 2; }

data=../shared/data/emodb-original
out=gpu-report-$(date +%Y%m%d-%H%M%S)
epochs=
quick=0
while [ $# -gt 0 ]; do
  case $1 in
    --data) data=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-report: unknown argument '$1' (--help lists them)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
data=$(cd "$data" 2> /dev/null && pwd || echo "$data")
: > "$out/steps.tsv"
# The choices `ser tune` makes here are the ones the bench and the training use, and they travel with the report.
export SER_TUNE_CACHE="$out/conv3d-tuning.json"
limit=${SER_STEP_TIMEOUT:-3600}
with_timeout=()
command -v timeout > /dev/null && with_timeout=(timeout --kill-after=30 "$limit")

# step NAME ARGS…: runs `ser ARGS…`, stdout to NAME.out, stderr to NAME.log, one line in steps.tsv.
step() {
  local name=$1; shift
  echo "gpu-report: $name: ser $*" >&2
  local t0 t1 rc
  t0=$(date +%s.%N)
  ${with_timeout[@]+"${with_timeout[@]}"} "$node" "$ser" "$@" > "$out/$name.out" 2> "$out/$name.log"
  rc=$?
  t1=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$t0" "$t1" >> "$out/steps.tsv"
  echo "gpu-report: $name: exit $rc" >&2
}

if [ $quick = 1 ]; then
  epochs=${epochs:-1}
  step doctor doctor --json
  step kernels doctor --kernels --json
  step tune tune --json --width 0.125 --batch 2 --repeats 1
  step bench bench --json --batch 2 --width 0.125 --iterations 1 --warmup 0 --kernels none
  step frontend bench --frontend "$data" --clips 8 --json
  step train train --data "emodb=$data" --epochs "$epochs" --width 0.125 --out "$out/train-run" --no-cache --json
else
  epochs=${epochs:-3}
  step doctor doctor --json
  step kernels doctor --kernels --json
  step tune tune --json --width 1 --batch 8
  step bench bench --json --batch 8,32 --width 1
  step frontend bench --frontend "$data" --json
  step train train --data "emodb=$data" --epochs "$epochs" --width 1 --out "$out/train-run" --no-cache --json
fi

# Assembles report.json from steps.tsv and each step's output, with node alone.
"$node" - "$out" "$quick" "$data" "$epochs" <<'EOF'
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const [out, quick, data, epochs] = process.argv.slice(2);

/** The last line of a step's stdout that parses as JSON (train prints its report there, after text). */
function lastJson(file) {
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return null; }
  const lines = text.split('\n').filter((l) => l.trim().startsWith('{') || l.trim().startsWith('['));
  for (let i = lines.length - 1; i >= 0; i--) {
    try { return JSON.parse(lines[i]); } catch {}
  }
  return null;
}

/** The last lines of a log that say something (Dawn's limit warnings and progress bars left out). */
function tail(file, n) {
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return []; }
  return text.split(/[\n\r]/).map((l) => l.trim()).filter((l) => l && !l.startsWith('Warning: maxDynamic')).slice(-n);
}

const steps = {};
for (const line of fs.readFileSync(path.join(out, 'steps.tsv'), 'utf8').split('\n').filter(Boolean)) {
  const [name, rc, t0, t1] = line.split('\t');
  const result = lastJson(path.join(out, `${name}.out`));
  const exitCode = Number(rc);
  steps[name] = {
    ok: exitCode === 0 && result !== null,
    exit_code: exitCode,
    timed_out: exitCode === 124 || exitCode === 137,
    seconds: Math.round((Number(t1) - Number(t0)) * 10) / 10,
    stdout: `${name}.out`,
    log: `${name}.log`,
    result,
    error: exitCode === 0 && result !== null ? null : tail(path.join(out, `${name}.log`), 5).join('\n') || `exit ${exitCode}, no JSON on stdout`,
  };
}

const r = (name) => steps[name]?.result ?? null;
const byBatch = (f) => Object.fromEntries((r('bench')?.batches ?? []).map((b) => [b.batch, f(b)]));
const nvidia = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
const kernels = r('kernels')?.kernels ?? null;
const report = {
  format: 'ser-gpu-report/1',
  created: new Date().toISOString(),
  ok: Object.values(steps).every((s) => s.ok),
  quick: quick === '1',
  data,
  epochs: Number(epochs),
  host: {
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    nvidia_smi: nvidia.status === 0 ? nvidia.stdout.trim() : null,
  },
  summary: {
    adapter: r('doctor')?.adapter ?? null,
    conv3d_default: r('doctor')?.conv3d ?? null,
    kernels_ok: kernels ? kernels.ok : null,
    kernels_failed: kernels ? kernels.ops.filter((o) => !o.ok).map((o) => o.op) : null,
    tuned_shapes: r('tune')?.results?.length ?? null,
    train_step_ms: byBatch((b) => b.train_step.ours_ms),
    train_step_gflops: byBatch((b) => b.train_step.ours_gflops),
    forward_ms: byBatch((b) => b.forward.ours_ms),
    train_step_peak_gpu_mib: byBatch((b) => Math.round((b.train_step_peak_bytes / 2 ** 20) * 10) / 10),
    frontend_real_time: r('frontend')?.gpu?.realTime ?? null,
    train_test_accuracy: r('train')?.accuracy ?? null,
    train_macro_f1: r('train')?.macro_f1 ?? null,
    train_seconds: r('train')?.seconds ?? null,
  },
  steps,
};
fs.writeFileSync(path.join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
const failed = Object.entries(steps).filter(([, s]) => !s.ok).map(([n]) => n);
console.error(`gpu-report: ${path.join(out, 'report.json')}: ${failed.length ? `failed: ${failed.join(', ')}` : 'every step ok'}`);
process.exit(failed.length ? 1 : 0);
EOF
