// The adapter's plain read kernel: sums a buffer of vec4s with a grid-stride loop and writes one partial
// per workgroup. It moves the same bytes as a gradient evaluation with none of its arithmetic: the
// bandwidth limit the fused kernel is measured against (bench/suite/read-kernel.ts).
// Each loop trip issues four independent loads into four accumulators, so no load waits on the add
// before it. On an H100 (Deno/wgpu, 1 GiB) this and the one-accumulator form both read ~3.1 TB/s, as
// torch.sum does (3.05); the independent loads are for GPUs with fewer threads in flight per core.

override WG: u32 = 256u;

struct ReadUniforms {
  count4: u32,     // vec4s to read
  num_groups: u32,
  groups_x: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> ru: ReadUniforms;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * ru.groups_x;
  if (group >= ru.num_groups) {
    return;
  }
  let stride = ru.num_groups * WG;
  var k = group * WG + t;
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  // Consecutive threads read consecutive vec4s (coalesced); the four loads of a trip are a grid apart.
  while (k + 3u * stride < ru.count4) {
    a0 = a0 + src[k];
    a1 = a1 + src[k + stride];
    a2 = a2 + src[k + 2u * stride];
    a3 = a3 + src[k + 3u * stride];
    k = k + 4u * stride;
  }
  while (k < ru.count4) {
    a0 = a0 + src[k];
    k = k + stride;
  }
  let acc = (a0 + a1) + (a2 + a3);
  scratch[t] = acc.x + acc.y + acc.z + acc.w;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      scratch[t] = scratch[t] + scratch[t + s];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    partials[group] = scratch[0];
  }
}
