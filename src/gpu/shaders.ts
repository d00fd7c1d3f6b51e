// The one shader registry: every WGSL file under shaders/ as a string, and for every stage its variants — the
// `${NAME}` defines it takes (wgsl-preprocessor placeholders and `#if ${FLAG}` switches, filled by
// specializeWgsl), its `override` constants (set at pipeline creation) and the shared pieces assembled before
// it. test/node/shader-registry.test.ts checks this list against the files themselves.
// Vite (demo, Vitest browser mode, the engine bundle) inlines `?raw`; Node-side code must not import this
// file: it drives the GPU through the bundle instead.
import compensatedSum from '../../shaders/shared/compensated_sum.wgsl?raw';
import gemmEpilogue from '../../shaders/shared/gemm_epilogue.wgsl?raw';
import workgroupSum from '../../shaders/shared/workgroup_sum.wgsl?raw';
import segmentedSum from '../../shaders/shared/segmented_sum.wgsl?raw';
import optimLayout from '../../shaders/shared/optim_layout.wgsl?raw';
import optimRule from '../../shaders/shared/optim_rule.wgsl?raw';
import mlpLayout from '../../shaders/shared/mlp_layout.wgsl?raw';
import linearPartialsQuad from '../../shaders/linear_partials_quad.wgsl?raw';
import readBandwidth from '../../shaders/read_bandwidth.wgsl?raw';
import lossSurfaceLayout from '../../shaders/shared/loss_surface_layout.wgsl?raw';
import lossSurfaceMoments from '../../shaders/loss_surface_moments.wgsl?raw';
import lossSurfaceGrid from '../../shaders/loss_surface_grid.wgsl?raw';
import optimUpdate from '../../shaders/optim_update.wgsl?raw';
import foldStep from '../../shaders/fold_step.wgsl?raw';
import mlpForward from '../../shaders/mlp_forward.wgsl?raw';
import mlpBackprop from '../../shaders/mlp_backprop.wgsl?raw';
import mlpGemm from '../../shaders/mlp_gemm.wgsl?raw';
import mlpGemmBlocked from '../../shaders/mlp_gemm_blocked.wgsl?raw';
import mlpHead from '../../shaders/mlp_head.wgsl?raw';
import mlpGradPartials from '../../shaders/mlp_grad_partials.wgsl?raw';
import mlpReduce from '../../shaders/mlp_reduce.wgsl?raw';
import mlpHistory from '../../shaders/mlp_history.wgsl?raw';
import formulaPartials from '../../shaders/formula_partials.wgsl?raw';
import formulaLinearPredictor from '../../shaders/formula_linear_predictor.wgsl?raw';

export const shaderSources = {
  compensatedSum,
  gemmEpilogue,
  workgroupSum,
  segmentedSum,
  optimLayout,
  optimRule,
  mlpLayout,
  lossSurfaceLayout,
  linearPartialsQuad,
  readBandwidth,
  lossSurfaceMoments,
  lossSurfaceGrid,
  optimUpdate,
  foldStep,
  mlpForward,
  mlpBackprop,
  mlpGemm,
  mlpGemmBlocked,
  mlpHead,
  mlpGradPartials,
  mlpReduce,
  mlpHistory,
  formulaPartials,
  formulaLinearPredictor,
} as const;

export type ShaderName = keyof typeof shaderSources;

/** Pieces assembled before stages (structs, enum codes, helper functions); none is a stage by itself. */
export const SHARED_PIECES = {
  compensatedSum: 'shared/compensated_sum.wgsl',
  gemmEpilogue: 'shared/gemm_epilogue.wgsl',
  workgroupSum: 'shared/workgroup_sum.wgsl',
  segmentedSum: 'shared/segmented_sum.wgsl',
  optimLayout: 'shared/optim_layout.wgsl',
  optimRule: 'shared/optim_rule.wgsl',
  mlpLayout: 'shared/mlp_layout.wgsl',
  lossSurfaceLayout: 'shared/loss_surface_layout.wgsl',
} as const satisfies Partial<Record<ShaderName, string>>;

export interface StageVariants {
  /** Path under shaders/. */
  file: string;
  /** Shared pieces some variant assembles before the stage. */
  shared: readonly (keyof typeof SHARED_PIECES)[];
  /** `${NAME}` defines: preprocessor placeholders and `#if` flags. */
  defines: readonly string[];
  /** `override` constants. */
  overrides: readonly string[];
}

export const SHADER_STAGES = {
  linearPartialsQuad: {
    file: 'linear_partials_quad.wgsl', shared: ['mlpLayout', 'compensatedSum', 'segmentedSum'],
    defines: ['D', 'BLOCK', 'TREE_ROWS', 'SCRATCH', 'QUADS_PER_TRIP', 'QUAD_BODY', 'TAIL_BODY', 'LOAD_WEIGHTS', 'FOLD_BLOCK', 'TRIP', 'REDUCE_GRADIENT'], overrides: ['WG', 'BLOCKED', 'SPAN'],
  },
  readBandwidth: { file: 'read_bandwidth.wgsl', shared: ['workgroupSum'], defines: ['VTYPE', 'SCALAR', 'UNROLL2', 'UNROLL4', 'FAULT'], overrides: ['WG', 'BLOCKED', 'RUN'] },
  lossSurfaceMoments: { file: 'loss_surface_moments.wgsl', shared: ['lossSurfaceLayout'], defines: [], overrides: ['WG'] },
  lossSurfaceGrid: { file: 'loss_surface_grid.wgsl', shared: ['lossSurfaceLayout'], defines: [], overrides: ['WG'] },
  optimUpdate: { file: 'optim_update.wgsl', shared: ['optimLayout', 'optimRule'], defines: [], overrides: ['WG', 'KIND'] },
  foldStep: { file: 'fold_step.wgsl', shared: ['optimLayout', 'workgroupSum', 'optimRule'], defines: [], overrides: ['WG', 'KIND', 'HISTORY_CAP'] },
  mlpForward: { file: 'mlp_forward.wgsl', shared: ['mlpLayout'], defines: [], overrides: ['WG', 'ACT'] },
  mlpBackprop: { file: 'mlp_backprop.wgsl', shared: ['mlpLayout'], defines: [], overrides: ['WG', 'ACT'] },
  mlpGemm: { file: 'mlp_gemm.wgsl', shared: ['mlpLayout', 'gemmEpilogue'], defines: [], overrides: ['MODE', 'ACT'] },
  mlpGemmBlocked: {
    file: 'mlp_gemm_blocked.wgsl', shared: ['mlpLayout', 'gemmEpilogue'],
    defines: ['RM', 'RN', 'LANES', 'UNIT_COLS', 'LANE', 'LANE_BUILTIN', 'A_LEN', 'B_LEN', 'C_LEN', 'AUX_LEN', 'PREAMBLE', 'SETUP', 'PRODUCTS', 'STORES'],
    overrides: ['MODE', 'ACT', 'WG'],
  },
  mlpHead: { file: 'mlp_head.wgsl', shared: ['mlpLayout'], defines: ['LOSS_FNS', 'LOSS_BODY'], overrides: ['WG'] },
  mlpGradPartials: { file: 'mlp_grad_partials.wgsl', shared: ['mlpLayout'], defines: [], overrides: ['WG', 'SKIP_WEIGHTS'] },
  mlpReduce: { file: 'mlp_reduce.wgsl', shared: ['mlpLayout'], defines: ['TREE'], overrides: ['WG', 'LANES'] },
  mlpHistory: { file: 'mlp_history.wgsl', shared: ['optimLayout', 'workgroupSum'], defines: [], overrides: ['WG', 'HISTORY_CAP'] },
  formulaPartials: { file: 'formula_partials.wgsl', shared: ['mlpLayout', 'compensatedSum', 'segmentedSum'], defines: ['BLOCK', 'TREE_ROWS', 'SCRATCH', 'TRIP', 'TWO_A_TRIP', 'X_VEC4', 'Y_VEC4', 'ROW_BODY', 'QUAD_BODY', 'FOLD_BODY', 'LOAD_PARAMS', 'PARTIALS_ROW', 'PARTIALS_OFFSET'], overrides: ['WG', 'BLOCKED', 'SPAN'] },
  formulaLinearPredictor: {
    file: 'formula_linear_predictor.wgsl', shared: ['mlpLayout', 'compensatedSum', 'segmentedSum'],
    defines: ['CHUNK_TYPE', 'CHUNK', 'VEC4', 'C', 'W', 'FEATURES', 'OUTPUTS', 'SCALARS', 'PARAMS', 'SLOTS', 'CPT', 'BLOCK_TILES', 'FOLD_ROWS', 'TILE', 'TREE_ROWS', 'SCRATCH', 'COEF_LENGTH', 'COEF_PARAM', 'OUT_COLUMN', 'OUT_SCALAR', 'ROW_BODY', 'FOLD_BODY', 'LOAD_PARAMS'],
    overrides: ['WG', 'BLOCKED', 'SPAN'],
  },
} as const satisfies Partial<Record<ShaderName, StageVariants>>;
