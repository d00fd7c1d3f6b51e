// The adapter's plain read kernel: sums a buffer with a grid-stride loop and writes one partial per
// workgroup. It moves the same bytes as a gradient evaluation with none of its arithmetic: the yardstick
// the fused kernels are measured against (bench/suite/read-sweep.ts sweeps its variants per adapter).
// Variants (wgsl-preprocessor): VTYPE is the load width (f32, vec2<f32>, vec4<f32>; SCALAR when f32);
// UNROLL2 / UNROLL4 keep 2 or 4 independent loads in flight per loop trip, each into its own
// accumulator, so no load waits on the add before it. WG (override) is the workgroup size; the grid
// (num_groups) is a uniform. FAULT is the bench's injected bug: the unrolled trips read their first
// vector twice instead of the next one, so such a candidate sums wrong and must be rejected.

override WG: u32 = 256u;

alias V = ${VTYPE};

struct ReadUniforms {
  count: u32,      // elements of V to read
  num_groups: u32,
  groups_x: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> ru: ReadUniforms;
@group(0) @binding(1) var<storage, read> src: array<V>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, WG>;

fn lanes_sum(v: V) -> f32 {
#if ${SCALAR}
  return v;
#else
  return dot(v, V(1.0));
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * ru.groups_x;
  if (group >= ru.num_groups) {
    return;
  }
  let stride = ru.num_groups * WG;
  let n = ru.count;
  // Consecutive threads read consecutive elements (coalesced); the loads of one trip are a grid apart.
  var k = group * WG + t;
  var a0 = V(0.0);
#if ${UNROLL2}
  var a1 = V(0.0);
#endif
#if ${UNROLL4}
  var a2 = V(0.0);
  var a3 = V(0.0);
  while (k + 3u * stride < n) {
    a0 = a0 + src[k];
#if ${FAULT}
    a1 = a1 + src[k];
#else
    a1 = a1 + src[k + stride];
#endif
    a2 = a2 + src[k + 2u * stride];
    a3 = a3 + src[k + 3u * stride];
    k = k + 4u * stride;
  }
  a0 = a0 + a2;
  a1 = a1 + a3;
#endif
#if ${UNROLL2}
  while (k + stride < n) {
    a0 = a0 + src[k];
#if ${FAULT}
    a1 = a1 + src[k];
#else
    a1 = a1 + src[k + stride];
#endif
    k = k + 2u * stride;
  }
  a0 = a0 + a1;
#endif
  while (k < n) {
    a0 = a0 + src[k];
    k = k + stride;
  }
  let total = workgroup_sum(t, lanes_sum(a0)); // shared/workgroup_sum.wgsl
  if (t == 0u) {
    partials[group] = total;
  }
}
