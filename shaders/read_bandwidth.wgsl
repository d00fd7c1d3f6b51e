// The adapter's plain read kernel: sums a buffer of vec4s with a grid-stride loop and writes one partial
// per workgroup. It moves the same bytes as a gradient evaluation with none of its arithmetic: the
// bandwidth limit the fused kernel is measured against.

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
  var acc = vec4<f32>(0.0);
  for (var k = group * WG + t; k < ru.count4; k = k + ru.num_groups * WG) {
    acc = acc + src[k];
  }
  scratch[t] = acc.x + acc.y + acc.z + acc.w;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (t < stride) {
      scratch[t] = scratch[t] + scratch[t + stride];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    partials[group] = scratch[0];
  }
}
