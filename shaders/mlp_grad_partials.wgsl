// First level of the gradient reduction over samples. Thread (e, c): parameter entry e of this layer and
// chunk c of `chunk` samples; it sums that parameter's per-sample terms over the chunk in sample order and
// writes one partial. No per-sample gradient is ever stored and there are no atomics; mlp_reduce.wgsl folds
// the chunk rows with a fixed tree, so reruns are bit-identical.
//   e < fan_out * fan_in:  dW[o][j] += delta[i][o] * a_in[i][j]
//   next fan_out entries:  db[o]    += delta[i][o]
//   last (has_loss):       J        += losses[i]

override WG: u32 = 256u;
// The weight entries come from mlp_gemm.wgsl (MODE 2) when set: this kernel then sums biases and the loss.
override SKIP_WEIGHTS: bool = false;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;
@group(0) @binding(1) var<storage, read> delta: array<f32>;  // n x fan_out
@group(0) @binding(2) var<storage, read> a_in: array<f32>;   // rows x_row.. x fan_in
@group(0) @binding(3) var<storage, read> losses: array<f32>; // n
@group(0) @binding(4) var<storage, read_write> partials: array<f32>; // num_chunks x stride

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let idx = flat_index(wid, mu.groups_x, WG, t);
  if (idx >= mu.count) {
    return;
  }
  let weights = mu.fan_out * mu.fan_in;
  let first = select(0u, weights, SKIP_WEIGHTS);
  let entries = weights + mu.fan_out + mu.has_loss - first;
  let e = first + idx % entries;
  let c = idx / entries;
  let i0 = c * mu.chunk;
  let i1 = min(mu.n, i0 + mu.chunk);
  var s = 0.0;
  var col = mu.w_offset + e;
  if (e < weights) {
    let o = e / mu.fan_in;
    let j = e % mu.fan_in;
    for (var i = i0; i < i1; i = i + 1u) {
      s = fma(delta[i * mu.fan_out + o], a_in[(mu.x_row + i) * mu.fan_in + j], s);
    }
  } else if (e < weights + mu.fan_out) {
    let o = e - weights;
    for (var i = i0; i < i1; i = i + 1u) {
      s = s + delta[i * mu.fan_out + o];
    }
  } else {
    for (var i = i0; i < i1; i = i + 1u) {
      s = s + losses[i];
    }
    col = mu.loss_col;
  }
  partials[c * mu.stride + col] = s;
}
