// power_to_db with ref = per-clip maximum, then min-max scaling of each clip to [0, 1].
//
// Math (librosa.power_to_db(S, ref=np.max, amin, top_db)):
//   db(x) = 10·log10(max(amin, x)) - 10·log10(max(amin, max_c)),
//   db    = max(db(x), -top_db)      (the clip's maximum dB is exactly 0 with ref = max),
//   lo    = max(db(min_c), -top_db)  (db is monotonic, so the clip's minimum dB
//                                     comes from its minimum power, with the same formula),
//   scaled = (db - lo) / (0 - lo), or 0 where the clip is constant (lo = 0).
// Layouts: clip_info[c] = (first frame, F, output offset, count); stats [clips]
//   vec2f (max, min) from clip_min_max; mel, db, scaled f32 at the clips' offsets.
// Dispatch: x covers the largest clip (ceil(max count / WG) workgroups), y = clip.
// Bindings: 0 params {amin, top_db, clips}, 1 clip_info, 2 stats, 3 mel (read),
//           4 db, 5 scaled (read_write).
override WG: u32 = 256;

struct Params {
  amin: f32,
  top_db: f32,
  clips: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> clip_info: array<vec4u>;
@group(0) @binding(2) var<storage, read> stats: array<vec2f>;
@group(0) @binding(3) var<storage, read> mel: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;
@group(0) @binding(5) var<storage, read_write> scaled: array<f32>;

const DB_PER_LOG2: f32 = 3.0102999566398120; // 10·log10(2)

fn level(x: f32) -> f32 {
  return DB_PER_LOG2 * log2(max(params.amin, x));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.y;
  if (c >= params.clips) {
    return;
  }
  let info = clip_info[c];
  let i = gid.x;
  if (i >= info.w) {
    return;
  }
  let st = stats[c];
  let ref_db = level(st.x);
  let lo = max(level(st.y) - ref_db, -params.top_db);
  let d = max(level(mel[info.z + i]) - ref_db, -params.top_db);
  db[info.z + i] = d;
  scaled[info.z + i] = select(0.0, (d - lo) / (0.0 - lo), lo < 0.0);
}
