// WGSL sources as strings. Vite (demo, Vitest browser mode, the engine bundle) inlines `?raw`;
// Node-side code must not import this file: it drives the GPU through the bundle instead.
import linearLayout from '../../shaders/shared/linear_layout.wgsl?raw';
import compensatedSum from '../../shaders/shared/compensated_sum.wgsl?raw';
import partialsColumn from '../../shaders/shared/partials_column.wgsl?raw';
import linearPartials from '../../shaders/linear_partials.wgsl?raw';
import linearPartialsQuad from '../../shaders/linear_partials_quad.wgsl?raw';
import reducePartials from '../../shaders/reduce_partials.wgsl?raw';
import applyUpdate from '../../shaders/apply_update.wgsl?raw';
import readBandwidth from '../../shaders/read_bandwidth.wgsl?raw';
import standardize from '../../shaders/standardize.wgsl?raw';

export const shaderSources = {
  linearLayout,
  compensatedSum,
  partialsColumn,
  linearPartials,
  linearPartialsQuad,
  reducePartials,
  applyUpdate,
  readBandwidth,
  standardize,
} as const;
