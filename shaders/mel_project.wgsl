// Mel projection: mel power = filterbank · power spectrum, per frame, written
// in each clip's librosa layout [n_mels][frames].
//
// Math: mel[m][t] = Σ_{k in range_m} fb[m][k] · power[f][k], where range_m =
//   [start, end) holds filter m's non-zero bins (computed on the CPU from the
//   float64 filterbank), so the sum skips the zeros of the triangles.
// Layouts: power [frames][bins] f32; frame_info[f] = (signal offset, clip length,
//   t, clip); clip_info[c] = (first frame, frame count F, output offset, n_mels·F);
//   fb [n_mels][bins] f32; ranges [n_mels] vec2u;
//   mel: clip c at its output offset, [n_mels][F] row-major. Frames with t >= F
//   are padding slots (each clip's frames are paired inside the clip) and are skipped.
// Dispatch: one thread per (frame, mel), frames·n_mels threads in 1-D (m fastest),
//   folded into y (grid1d).
// Bindings: 0 params {n_mels, bins, frames}, 1 power, 2 frame_info, 3 clip_info,
//           4 fb, 5 ranges (read), 6 mel (read_write).
override WG: u32 = 256;

struct Params {
  n_mels: u32,
  bins: u32,
  frames: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> power: array<f32>;
@group(0) @binding(2) var<storage, read> frame_info: array<vec4u>;
@group(0) @binding(3) var<storage, read> clip_info: array<vec4u>;
@group(0) @binding(4) var<storage, read> fb: array<f32>;
@group(0) @binding(5) var<storage, read> ranges: array<vec2u>;
@group(0) @binding(6) var<storage, read_write> mel: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.frames * params.n_mels) {
    return;
  }
  let f = i / params.n_mels;
  let m = i - f * params.n_mels;
  let info = frame_info[f];
  let clip = clip_info[info.w];
  if (info.z >= clip.y) {
    return; // the padding slot of a clip with an odd frame count
  }
  let r = ranges[m];
  var acc = 0.0;
  for (var k = r.x; k < r.y; k++) {
    acc += fb[m * params.bins + k] * power[f * params.bins + k];
  }
  mel[clip.z + m * clip.y + info.z] = acc;
}
