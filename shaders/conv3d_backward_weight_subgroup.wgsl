// conv3d backward with respect to the weights and bias, with subgroup shuffles, split over positions:
//   dw[zd, zh, zw, ci, co] = sum_{n, od, oh, ow} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * dy[n, od, oh, ow, co]
//   db[co]                 = sum_{n, od, oh, ow} dy[n, od, oh, ow, co]
//
// GEMM view: G[K+1, Cout] = A[K+1, P] · dY[P, Cout], with K = kd·kh·kw·Cin weight rows
// plus one row of ones (its product is db), P = N·OD·OH·OW output positions (the
// reduction), A[k, p] = the input tap of position p at kernel offset k (zero outside x).
//
// Blocking: G is cut into tiles of 32 rows × 4·CV channels, one per group of 8 lanes.
// At each position lane q of a group loads the input values of rows 4q .. 4q+3 (one
// vec4 when Cin % 4 == 0), so the group holds all 32 rows' values once, where a load
// costs 8 per-lane scalar loads on a CPU driver whatever its address. With CV = 8
// lane q owns channels 4q .. 4q+3 for all 32 rows (32 vec4 accumulators), loads its
// own dy vec4, and 8 shuffles hand it every row's values, each feeding 4 multiply-adds.
// A layer of 8 or 16 output channels runs CV = 2 or 4: the group's lanes split into
// 8/CV row blocks of 4·CV rows × CV lanes of 4 channels (lane q: channels 4·(q % CV),
// rows (q / CV)·4·CV ..), and each lane shuffles in only the CV vec4s of its own rows.
// The group then computes no channel past the layer's last and does a quarter (CV 2)
// or half (CV 4) of the multiply-adds and shuffles of CV = 8 for the same useful work.
// A workgroup holds GROUPS groups (consecutive tiles) that share one chunk of
// positions, so every loop bound is uniform across the workgroup.
//
// P is large and K·Cout can be small, so the reduction is split: workgroup y sums
// positions [y·chunk, (y+1)·chunk) and writes its partial G to partial[y];
// conv3d_backward_reduce adds the partials into dw and db.
//
// Requires subgroups whose size is a multiple of 8, laid out so that lanes 8g .. 8g+7
// of a subgroup are consecutive local invocations (src/kernels/gpu.ts probes both):
// the 8 lanes of a group must work on the same tile.
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], dy [N, OD, OH, OW, Cout],
// partial [chunks, K+1, Cout]. x and dy are bound as vec4 arrays, so their buffers must
// be sized to a multiple of 16 bytes; scalar elements are read as v[i / 4][i % 4].
//
// Dispatch: workgroups (ceil(tiles / GROUPS), chunks); workgroup size 8·GROUPS;
//           tiles = cblocks · rblocks, cblocks = ceil(Cout / (4·CV)), rblocks = ceil((K+1) / 32).
// Bindings: 0 params, 1 dy (read), 2 x (read), 3 partial (read_write).
enable subgroups;

override GROUPS: u32 = 4; // groups of 8 lanes per workgroup
override CV: u32 = 8; // vec4 groups of output channels per tile: 8, 4 or 2
override VEC_A: bool = false;
override VEC_B: bool = false;
const TILE: u32 = 32u; // rows of a tile
override RL: u32 = 4u * CV; // rows per lane (each with 4 channels); not set by the host
override PB: u32 = 8u / CV; // positions per step of the position loop; not set by the host

struct Params {
  n: u32, d: u32, h: u32, w: u32, cin: u32,
  od: u32, oh: u32, ow: u32, cout: u32,
  kd: u32, kh: u32, kw: u32,
  pd: u32, ph: u32, pw: u32,
  m: u32, k: u32,
  chunk: u32,
  cblocks: u32,
  rblocks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

// output_position, input_position, decode_tap: shared with the other conv3d shaders
// #include conv3d_common.wgsl

// A[row of t, position pos of sample base]: the input tap, zero outside x, 1 for the ones row.
fn tap_value(base: u32, pos: vec3i, t: Tap) -> f32 {
  let i = pos + t.off;
  let inside = all(i >= vec3i(0)) && all(i < vec3i(i32(params.d), i32(params.h), i32(params.w)));
  let o = select(0u, base + ((u32(i.x) * params.h + u32(i.y)) * params.w + u32(i.z)) * params.cin + t.ci, inside);
  let v = select(0.0, x[o >> 2u][o & 3u], inside);
  return select(v, f32(t.kind == 1u), t.kind != 0u);
}

@compute @workgroup_size(8 * GROUPS)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tiles = params.cblocks * params.rblocks;
  let tile_unclamped = wid.x * GROUPS + lid / 8u;
  let tile = min(tile_unclamped, tiles - 1u); // a spare group computes the last tile again and stores nothing
  let q = lane & 7u;
  let c = (tile % params.cblocks) * 4u * CV + 4u * (q % CV); // this lane's 4 channels
  let row0 = (tile / params.cblocks) * TILE; // the tile's first row
  let group = lane & ~7u; // first lane of this lane's group of 8
  let rb = q / CV; // this lane's block of RL rows: row0 + rb·RL .., loaded by lanes rb·CV .. rb·CV + CV - 1
  let rows = params.k + 1u;
  let p_begin = wid.y * params.chunk;
  let p_end = min(params.m, p_begin + params.chunk);

  // The 4 rows whose input values this lane loads: row0 + 4q .. row0 + 4q + 3.
  var taps: array<Tap, 4>;
  for (var r = 0u; r < 4u; r++) {
    taps[r] = decode_tap(row0 + 4u * q + r);
  }
  // With Cin % 4 == 0 the four rows are four channels of one tap: one vec4 load.
  let vec_rows = VEC_A && taps[0].kind == 0u;

  var acc: array<vec4f, TILE>; // acc[r] = G[row0 + rb·RL + r, c .. c+3], r < RL
  for (var r = 0u; r < RL; r++) {
    acc[r] = vec4f(0.0);
  }

  // Positions are taken PB = 8 / CV at a time. The dY vec4 of position p + s and
  // channels 4·j' .. is loaded once per group, by lane s·CV + j', and handed round by
  // shuffles: with CV < 8 the lanes of different row blocks need the same dY values,
  // and a vec4 load costs more than the multiply-adds it feeds here.
  // (od, oh, ow) and n of position p, advanced by one each step (conv3d_common.wgsl).
  var walk = walk_start(min(p_begin, params.m - 1u));
  for (var p = p_begin; p < p_end; p += PB) {
    var gl = vec4f(0.0); // dY[p + rb, c .. c+3], zero past the chunk; channels past Cout clamped (never stored)
    let pg = p + rb;
    if (pg < p_end) {
      let i = pg * params.cout;
      if (VEC_B) {
        gl = dy[(i + min(c, params.cout - 4u)) >> 2u];
      } else {
        for (var j = 0u; j < 4u; j++) {
          let e = i + min(c + j, params.cout - 1u);
          gl[j] = dy[e >> 2u][e & 3u];
        }
      }
    }
    var a: array<vec4f, 4>; // a[s] = A[row0 + 4q + r, p + s] for r < 4 (position p + s clamped to the chunk)
    var ws = walk;
    for (var s = 0u; s < PB; s++) {
      if (s > 0u && p + s < p_end) {
        ws = walk_next(ws);
      }
      let base = ws.n * params.d * params.h * params.w * params.cin;
      if (vec_rows) {
        let t = ws.pos + taps[0].off;
        let inside = all(t >= vec3i(0)) && all(t < vec3i(i32(params.d), i32(params.h), i32(params.w)));
        let o = select(0u, base + ((u32(t.x) * params.h + u32(t.y)) * params.w + u32(t.z)) * params.cin + taps[0].ci, inside);
        a[s] = select(vec4f(0.0), x[o >> 2u], inside);
      } else {
        for (var r = 0u; r < 4u; r++) {
          a[s][r] = tap_value(base, ws.pos, taps[r]);
        }
      }
      a[s] = select(vec4f(0.0), a[s], p + s < p_end); // meets a zero dY there; no 0 · inf
    }
    for (var s = 0u; s < PB; s++) {
      let g = subgroupShuffle(gl, group + s * CV + q % CV); // dY[p + s, c .. c+3]
      for (var j = 0u; j < CV; j++) {
        let v = subgroupShuffle(a[s], group + rb * CV + j); // rows row0 + rb·RL + 4j .. + 3
        acc[4u * j] += v.x * g;
        acc[4u * j + 1u] += v.y * g;
        acc[4u * j + 2u] += v.z * g;
        acc[4u * j + 3u] += v.w * g;
      }
    }
    walk = walk_next(ws);
  }

  // Every chunk writes its whole tile (zeros where it had no positions), so the
  // reduction needs no clearing.
  if (tile_unclamped < tiles) {
    let chunk_base = wid.y * rows * params.cout;
    for (var r = 0u; r < RL; r++) {
      let row = row0 + rb * RL + r;
      if (row >= rows) {
        continue;
      }
      for (var j = 0u; j < 4u; j++) {
        if (c + j < params.cout) {
          partial[chunk_base + row * params.cout + c + j] = acc[r][j];
        }
      }
    }
  }
}
