// What one operation costs on this adapter, for bench/driver_costs.bench.ts: every
// invocation runs a loop of `iterations` steps, and each step performs K operations of
// one kind (KIND), each feeding its own accumulator, so the K chains are independent.
// Timing the same loop at two values of K separates the cost of one operation (the
// slope) from the cost of a loop step itself (the intercept).
//   KIND 0  4 chained fmas     acc[j] = fma(fma(fma(fma(acc[j], x, c), x, c), x, c), x, c)
//   KIND 1  one fma            acc[j] = fma(acc[j], x, c)
//   KIND 2  load, per lane     acc[j] = fma(data[e_j].x, c, acc[j]), e_j differs across lanes
//   KIND 3  load, shared       the same, e_j the same for every lane of the workgroup
//   KIND 4  vec4 load          acc[j] = fma(dot(data[e_j], c4), c, acc[j]), e_j per lane
//   KIND 5  subgroup shuffle   acc[j] = fma(subgroupShuffle(x, lane of j), c, acc[j])
//   KIND 6  store, per lane    acc[j] = fma(acc[j], x, c); sink[slot + j] = acc[j]
//   KIND 7  vec4 store         acc[j] = fma(acc[j], x, c); sink4[slot + j] = vec4(acc[j], …)
//   KIND 8  uniform load       acc[j] = fma(params.table[e_j].x, c, acc[j]), e_j from the
//                              loop counters and the workgroup id, the same for every lane
//   KIND 9  vec4 uniform load  acc[j] = fma(dot(params.table[e_j], c4), c, acc[j]), e_j as in 8
// KIND 0's slope over 4 is the cost of one multiply-add on registers; KIND 1 adds what
// updating an accumulator costs beyond it; kinds 2–9 each contain one KIND 1 update,
// which the benchmark subtracts. The stores go to slots of the invocation's own (no
// two invocations write one element), K_MAX apart across lanes, as a conv3d kernel's
// output rows are Cout apart.
// The results are summed and stored so that nothing is optimised away.
//
// Layouts: data [n] vec4 (n a power of two; mask = n − 1), out [invocations],
//          sink [invocations · K_MAX] f32, sink4 [invocations · K_MAX] vec4.
// Dispatch: (workgroups, 1, 1), workgroup size 64.
// Bindings: 0 params, 1 data (read), 2 out, 3 sink, 4 sink4 (read_write).
enable subgroups;

override KIND: u32 = 0u;
override K: u32 = 16u; // operations per loop step, at most K_MAX
const K_MAX: u32 = 64u;

struct Params {
  iterations: u32,
  mask: u32,
  pad0: u32,
  pad1: u32,
  table: array<vec4f, 8>, // values for KINDs 8 and 9, in the params uniform itself
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> sink: array<f32>;
@group(0) @binding(4) var<storage, read_write> sink4: array<vec4f>;

@compute @workgroup_size(64)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  var acc: array<f32, K_MAX>;
  for (var j = 0u; j < K; j++) {
    acc[j] = f32(j) * 1e-3;
  }
  let group = lane & ~7u;
  let slot = (wid.x * 64u + lid) * K_MAX; // this invocation's store slots
  for (var i = 0u; i < params.iterations; i++) {
    let x = f32(i) * 1e-6 + f32(lid) * 1e-3;
    // Element addresses: consecutive across the lanes (as positions are in the conv3d
    // kernels), or one per step for the whole workgroup.
    let per_lane = (i * 64u + wid.x) * 64u + lid;
    let same_for_all = i * 64u + wid.x;
    for (var j = 0u; j < K; j++) {
      switch KIND {
        case 0u: {
          acc[j] = fma(fma(fma(fma(acc[j], x, 1e-4), x, 2e-4), x, 3e-4), x, 4e-4);
        }
        case 2u: {
          acc[j] = fma(data[(per_lane + j * 97u) & params.mask].x, 1e-3, acc[j]);
        }
        case 3u: {
          acc[j] = fma(data[(same_for_all + j * 97u) & params.mask].x, 1e-3, acc[j]);
        }
        case 4u: {
          acc[j] = fma(dot(data[(per_lane + j * 97u) & params.mask], vec4f(1.0, 0.5, 0.25, 0.125)), 1e-3, acc[j]);
        }
        case 5u: {
          acc[j] = fma(subgroupShuffle(x, group + (j & 7u)), 1e-3, acc[j]);
        }
        case 6u: {
          acc[j] = fma(acc[j], x, 1e-4);
          sink[slot + j] = acc[j];
        }
        case 7u: {
          acc[j] = fma(acc[j], x, 1e-4);
          sink4[slot + j] = vec4f(acc[j], x, acc[j], x);
        }
        case 8u: {
          acc[j] = fma(params.table[(i + wid.x + j * 3u) & 7u].x, 1e-3, acc[j]);
        }
        case 9u: {
          acc[j] = fma(dot(params.table[(i + wid.x + j * 3u) & 7u], vec4f(1.0, 0.5, 0.25, 0.125)), 1e-3, acc[j]);
        }
        default: {
          acc[j] = fma(acc[j], x, 1e-4);
        }
      }
    }
  }
  var s = 0.0;
  for (var j = 0u; j < K; j++) {
    s += acc[j];
  }
  out[wid.x * 64u + lid] = s;
}
