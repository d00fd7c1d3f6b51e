// The adapter's plain read kernel: sums a buffer and writes one partial per workgroup. It moves the same
// bytes as a gradient evaluation with none of its arithmetic: the yardstick the fused kernels are measured
// against (bench/suite/read-sweep.ts sweeps its variants per adapter).
// Variants (wgsl-preprocessor): VTYPE is the load width (f32, vec2<f32>, vec4<f32>; SCALAR when f32);
// UNROLL2 / UNROLL4 keep 2 or 4 independent loads in flight per loop trip, each into its own
// accumulator, so no load waits on the add before it. WG (override) is the workgroup size; the grid
// (num_groups) is a uniform. BLOCKED (override) picks the layout (ReadLayout in bench/suite/read-plan.ts):
// grid-stride (false; coalesced, right for hardware GPUs) or runs of RUN (override) consecutive elements a
// thread (true; right for CPU-backed adapters, which run a workgroup's threads a few lanes at a time through the
// whole loop), the layouts the gradient kernels have, so the yardstick is the faster of the two.
// FAULT is the bench's injected bug: the unrolled trips read their first vector twice instead of the
// next one, so such a candidate sums wrong and must be rejected.

override WG: u32 = 256u;
override BLOCKED: bool = false;
// Elements of V a blocked run holds (ReadConfig.run, swept over READ_RUNS in read-plan.ts; strided reads
// ignore it): longer runs read faster on a CPU-backed adapter, so the length is tuned, not fixed. A
// multiple of 4 (the host refuses others), so each of 1, 2 or 4 accumulators takes an equal whole share of
// every run.
override RUN: u32 = 16u;

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

// Consecutive threads read consecutive elements (coalesced); the loads of one trip are a grid apart.
fn read_strided(first: u32, stride: u32, n: u32) -> V {
  var k = first;
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
  return a0;
}

// Thread `first` reads runs first, first + stride, ... of RUN consecutive elements each, its accumulators
// interleaved inside a run (load i to accumulator i % unroll); then the elements after the last whole run,
// dealt out to the threads grid-stride.
fn read_blocked(first: u32, stride: u32, n: u32) -> V {
  let whole_runs = n / RUN;
  var a0 = V(0.0);
#if ${UNROLL2}
  var a1 = V(0.0);
#endif
#if ${UNROLL4}
  var a2 = V(0.0);
  var a3 = V(0.0);
#endif
  for (var r = first; r < whole_runs; r = r + stride) {
    let at = r * RUN;
#if ${UNROLL4}
    for (var i = 0u; i < RUN; i = i + 4u) {
      a0 = a0 + src[at + i];
#if ${FAULT}
      a1 = a1 + src[at + i];
#else
      a1 = a1 + src[at + i + 1u];
#endif
      a2 = a2 + src[at + i + 2u];
      a3 = a3 + src[at + i + 3u];
    }
#elif ${UNROLL2}
    for (var i = 0u; i < RUN; i = i + 2u) {
      a0 = a0 + src[at + i];
#if ${FAULT}
      a1 = a1 + src[at + i];
#else
      a1 = a1 + src[at + i + 1u];
#endif
    }
#else
    for (var i = 0u; i < RUN; i = i + 1u) {
      a0 = a0 + src[at + i];
    }
#endif
  }
#if ${UNROLL4}
  a0 = a0 + a2;
  a1 = a1 + a3;
#endif
#if ${UNROLL2}
  a0 = a0 + a1;
#endif
  for (var k = whole_runs * RUN + first; k < n; k = k + stride) {
    a0 = a0 + src[k];
  }
  return a0;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * ru.groups_x;
  if (group >= ru.num_groups) {
    return;
  }
  let first = group * WG + t;
  let stride = ru.num_groups * WG;
  var sum: V;
  if (BLOCKED) {
    sum = read_blocked(first, stride, ru.count);
  } else {
    sum = read_strided(first, stride, ru.count);
  }
  let total = workgroup_sum(t, lanes_sum(sum)); // shared/workgroup_sum.wgsl
  if (t == 0u) {
    partials[group] = total;
  }
}
