// Per-clip maximum and minimum of the mel power: the reduction that power_to_db
// (ref = max) and the min-max scaling need.
//
// Math: stats[c] = (max_i mel[c][i], min_i mel[c][i]) over the clip's n_mels·F values.
// Layouts: clip_info[c] = (first frame, F, output offset, count); mel f32 (clips
//   at their output offsets); stats [clips] vec2f (max, min).
// Dispatch: one workgroup per clip, ids folded into y (x·y >= clips); each thread
//   strides over the clip, then a tree reduction in workgroup memory (WG a power of two).
// Bindings: 0 params {clips, groups_x}, 1 clip_info, 2 mel (read), 3 stats (read_write).
override WG: u32 = 256;

struct Params {
  clips: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> clip_info: array<vec4u>;
@group(0) @binding(2) var<storage, read> mel: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<vec2f>;

var<workgroup> hi: array<f32, WG>;
var<workgroup> lo: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.x + wid.y * params.groups_x;
  if (c >= params.clips) {
    return; // uniform across the workgroup
  }
  let info = clip_info[c];
  var mx = -3.0e38;
  var mn = 3.0e38;
  for (var i = lid.x; i < info.w; i += WG) {
    let v = mel[info.z + i];
    mx = max(mx, v);
    mn = min(mn, v);
  }
  hi[lid.x] = mx;
  lo[lid.x] = mn;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) {
      hi[lid.x] = max(hi[lid.x], hi[lid.x + s]);
      lo[lid.x] = min(lo[lid.x], lo[lid.x + s]);
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    stats[c] = vec2f(hi[0], lo[0]);
  }
}
