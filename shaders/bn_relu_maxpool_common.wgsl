// What the fused block tail's forward and backward share, pasted where a shader has
// the line
//   // #include bn_relu_maxpool_common.wgsl
// The including shader binds x as vec4s, has the override constants VEC (C % 4 == 0),
// POS and WG, and params with the fields n, c, od, oh and ow.

// x[i … i+3]; with n of them valid (the scalar path), the rest read x[i].
fn x4(i: u32, n: u32) -> vec4f {
  if (VEC) {
    return x[i >> 2u];
  }
  var v: vec4f;
  for (var j = 0u; j < 4u; j++) {
    let e = i + select(0u, j, j < n);
    v[j] = x[e >> 2u][e & 3u];
  }
  return v;
}

// Invocation g's share: channels c … c+3 (valid of them) of the POS consecutive outputs
// (or windows) along W from (n, od, oh, ow0), and o0, the first one's flat index into
// y [N, OD, OH, OW, C]. Consecutive invocations take consecutive channel quads, then
// positions. inside is false past the last.
struct Block {
  inside: bool,
  n: u32,
  od: u32,
  oh: u32,
  ow0: u32,
  c: u32,
  valid: u32,
  o0: u32,
}

fn block_of(g: u32) -> Block {
  let p = params;
  let quads = (p.c + 3u) / 4u;
  let owBlocks = (p.ow + POS - 1u) / POS;
  var b: Block;
  b.inside = g < p.n * p.od * p.oh * owBlocks * quads;
  if (!b.inside) {
    return b;
  }
  b.c = (g % quads) * 4u;
  var rest = g / quads;
  b.ow0 = (rest % owBlocks) * POS;
  rest /= owBlocks;
  b.oh = rest % p.oh;
  rest /= p.oh;
  b.od = rest % p.od;
  b.n = rest / p.od;
  b.valid = min(4u, p.c - b.c);
  b.o0 = (((b.n * p.od + b.od) * p.oh + b.oh) * p.ow + b.ow0) * p.c + b.c;
  return b;
}
