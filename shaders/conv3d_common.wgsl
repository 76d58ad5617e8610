// Helpers shared by the conv3d shaders. WGSL has no includes, so loadShaderSource
// (src/kernels/gpu.ts) pastes this file where a shader has the line
//   // #include conv3d_common.wgsl
// They read the including shader's `params`, whose struct starts with the same
// geometry fields (n, d, h, w, cin, od, oh, ow, cout, kd, kh, kw, pd, ph, pw, m, k)
// in every conv3d shader.

// Output position m of the forward GEMM as (od, oh, ow, element offset of
// x[n, 0, 0, 0, 0]); od is -huge past the last position (m >= params.m), so every
// tap of it falls outside x and reads zero.
fn output_position(m: u32) -> vec4i {
  let mm = min(m, params.m - 1u);
  let ow = mm % params.ow;
  let t = mm / params.ow;
  let oh = t % params.oh;
  let t2 = t / params.oh;
  let od = t2 % params.od;
  let n = t2 / params.od;
  return vec4i(select(-0x40000000, i32(od), m < params.m), i32(oh), i32(ow), i32(n * params.d * params.h * params.w * params.cin));
}

// Input position m of backward_input as (i + pd, j + ph, l + pw, element offset of
// dy[n, 0, 0, 0, 0]); the first is -huge past the last position (m >= params.m).
fn input_position(m: u32) -> vec4i {
  let mm = min(m, params.m - 1u);
  let iw = mm % params.w;
  let t = mm / params.w;
  let ih = t % params.h;
  let t2 = t / params.h;
  let id = t2 % params.d;
  let n = t2 / params.d;
  return vec4i(select(-0x40000000, i32(id + params.pd), m < params.m), i32(ih + params.ph), i32(iw + params.pw), i32(n * params.od * params.oh * params.ow * params.cout));
}

// Row k of [dW; db] (k < K = kd·kh·kw·Cin, then the ones row) as a tap:
// (zd - pd, zh - ph, zw - pw, ci), and its kind.
struct Tap {
  off: vec3i,
  ci: u32,
  kind: u32, // 0: a weight row, 1: the ones row (bias), 2: past the end
}

fn decode_tap(k: u32) -> Tap {
  var t: Tap;
  t.kind = select(select(2u, 1u, k == params.k), 0u, k < params.k);
  let kk = min(k, params.k - 1u);
  t.ci = kk % params.cin;
  let q = kk / params.cin;
  let q2 = q / params.kw;
  t.off = vec3i(i32(q2 / params.kh) - i32(params.pd), i32(q2 % params.kh) - i32(params.ph), i32(q % params.kw) - i32(params.pw));
  return t;
}

// Output position p of the backward_weight reduction as (od, oh, ow) and its sample
// n, for a loop over consecutive positions that advances it (walk_next) instead of
// decoding every p.
struct Walk {
  pos: vec3i,
  n: u32,
}

fn walk_start(p: u32) -> Walk {
  let pos = vec3i(i32((p / (params.ow * params.oh)) % params.od), i32((p / params.ow) % params.oh), i32(p % params.ow));
  return Walk(pos, p / (params.ow * params.oh * params.od));
}

fn walk_next(w: Walk) -> Walk {
  var v = w;
  v.pos.z += 1;
  if (v.pos.z == i32(params.ow)) {
    v.pos.z = 0;
    v.pos.y += 1;
    if (v.pos.y == i32(params.oh)) {
      v.pos.y = 0;
      v.pos.x += 1;
      if (v.pos.x == i32(params.od)) {
        v.pos.x = 0;
        v.n += 1u;
      }
    }
  }
  return v;
}
