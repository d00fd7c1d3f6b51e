// WGSL sources of the optimizer and model stages, as strings (Vite inlines `?raw`; see src/gpu/shaders.ts).
// Node-side code must not import this file.
import optimLayout from '../../../shaders/shared/optim_layout.wgsl?raw';
import optimUpdate from '../../../shaders/optim_update.wgsl?raw';
import mlpLayout from '../../../shaders/shared/mlp_layout.wgsl?raw';
import mlpForward from '../../../shaders/mlp_forward.wgsl?raw';
import mlpBackprop from '../../../shaders/mlp_backprop.wgsl?raw';
import mlpGemm from '../../../shaders/mlp_gemm.wgsl?raw';
import mlpGemmBlocked from '../../../shaders/mlp_gemm_blocked.wgsl?raw';
import mlpHead from '../../../shaders/mlp_head.wgsl?raw';
import mlpGradPartials from '../../../shaders/mlp_grad_partials.wgsl?raw';
import mlpReduce from '../../../shaders/mlp_reduce.wgsl?raw';
import mlpHistory from '../../../shaders/mlp_history.wgsl?raw';

export const modelShaderSources = {
  optimLayout,
  optimUpdate,
  mlpLayout,
  mlpForward,
  mlpBackprop,
  mlpGemm,
  mlpGemmBlocked,
  mlpHead,
  mlpGradPartials,
  mlpReduce,
  mlpHistory,
} as const;
