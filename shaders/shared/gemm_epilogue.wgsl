// The epilogue both matrix-product kernels (mlp_gemm.wgsl, mlp_gemm_blocked.wgsl) apply to a finished sum
// of C: bias + activation (MODE 0, forward), times the activation's slope (MODE 1, backprop), or the plain
// partial of split `split` (MODE 2, weight gradient). It uses the stage's own bindings g, c and aux and its
// overrides MODE and ACT (module-scope names, declared by each stage); activate and activation_slope come
// from mlp_layout.wgsl.

fn store(m: u32, n: u32, s: f32, split: u32) {
  if (m >= g.m || n >= g.n) {
    return;
  }
  if (MODE == 0u) {
    c[g.c_base + m * g.c_sm + n] = activate(ACT, s + aux[g.aux_base + n]);
  } else if (MODE == 1u) {
    c[g.c_base + m * g.c_sm + n] = s * activation_slope(ACT, aux[g.aux_base + m * g.aux_sm + n]);
  } else {
    c[g.c_base + split * g.c_split + m * g.c_sm + n] = s;
  }
}
