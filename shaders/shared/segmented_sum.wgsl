// The per-workgroup sums of the pass-1 kernels (formula_partials.wgsl and linear_partials_quad.wgsl): each
// thread holds one value per sum, the workgroup adds them up. The stage
// declares `override WG`, `var<workgroup> scratch: array<f32, N>` with N at least WG * rows for the most rows
// it passes (N is written in the text, not as the override expression WG * rows: Naga 29, under Deno's
// WebGPU, panics creating such a pipeline once another override is set), and `partials` (read_write storage
// of f32).
//
// reduce_rows: deterministic sums of scratch rows 0 .. rows - 1 (one value per thread each, written by the
// caller), all at once; row r's total goes to partials[index + r]. Every thread calls it, in uniform control
// flow. Each row is dealt into SEG interleaved segments of WG / SEG values (segment s: values s, s + SEG,
// s + 2 SEG, ...; neighbouring threads read neighbouring words, so no bank conflicts on a GPU): one thread per
// (row, segment) adds its segment in order, then one thread per row adds the segments in order. Three
// barriers for any number of rows, where a binary tree paid one per level (log2(WG) + 2): on SwiftShader,
// whose barriers switch between coroutines, the trees took a quarter of pass 1 at N = 2^12 (gd100).
// SEG <= 2^floor(log2(WG) / 2), so the longest chain of additions is about 2 sqrt(WG) (16 at WG = 64, 32 at
// 256) instead of log2(WG); the kernels' error arguments count it.
fn reduce_rows(t: u32, rows: u32, index: u32) {
  workgroupBarrier();
  var seg = 1u;
  while (2u * seg * rows <= WG && 4u * seg * seg <= WG) {
    seg = 2u * seg;
  }
  let len = WG / seg;
  if (t < rows * seg) {
    let start = (t / seg) * WG + t % seg;
    var acc = scratch[start];
    for (var i = 1u; i < len; i = i + 1u) {
      acc = acc + scratch[start + i * seg];
    }
    scratch[start] = acc; // only this thread reads or writes its segment
  }
  workgroupBarrier();
  if (t < rows) {
    var acc = scratch[t * WG];
    for (var k = 1u; k < seg; k = k + 1u) {
      acc = acc + scratch[t * WG + k];
    }
    partials[index + t] = acc;
  }
  workgroupBarrier();
}
