// Checks, on this device, what the subgroup kernels (conv3d_*_subgroup.wgsl) assume:
//   - the subgroup size is a multiple of 8, so aligned groups of 8 lanes exist;
//   - lane l of a subgroup is local invocation s·size + l (consecutive invocations
//     share a subgroup, so invocations 8g .. 8g+7 form one group of 8 lanes);
//   - subgroupShuffle within such a group returns the chosen lane's value.
// ok[i] = 1 where all three hold for invocation i. Run once per device (src/kernels/gpu.ts).
//
// Dispatch: 1 workgroup of 64. Bindings: 0 ok (read_write), 64 u32.
enable subgroups;

@group(0) @binding(0) var<storage, read_write> ok: array<u32>;

@compute @workgroup_size(64)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) size: u32,
) {
  let j = (lane + 3u) & 7u; // some other lane of the group
  let got = subgroupShuffle(lid, (lane & ~7u) + j);
  let good = size % 8u == 0u && lane == lid % size && got == (lid & ~7u) + j;
  ok[lid] = select(0u, 1u, good);
}
