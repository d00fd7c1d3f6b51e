// Emits the D-dependent parts of shaders/linear_partials_quad.wgsl as straight-line WGSL: every index into
// the private arrays w and g is a constant, so compilers keep them in registers.

const LANE = ['x', 'y', 'z', 'w'] as const;

export function quadBody(d: number): string {
  const lines: string[] = [];
  for (let k = 0; k < d; k++) lines.push(`  let v${k} = x4[base + ${k}u];`);
  lines.push('  var p = vec4<f32>(bias);');
  // Element f of the quad's 4 * D floats is vector f / 4, lane f % 4, sample f / D, feature f % D.
  const elements = Array.from({ length: 4 * d }, (_, f) => ({
    v: `v${Math.floor(f / 4)}.${LANE[f % 4]}`, sample: LANE[Math.floor(f / d)], j: f % d,
  }));
  for (const e of elements) lines.push(`  p.${e.sample} = fma(${e.v}, w[${e.j}], p.${e.sample});`);
  lines.push('  var r = p - y4[q];');
  lines.push('  if (rows_left < 4u) {');
  lines.push('    r = select(vec4<f32>(0.0), r, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(rows_left));');
  lines.push('  }');
  for (const e of elements) lines.push(`  g[${e.j}] = fma(r.${e.sample}, ${e.v}, g[${e.j}]);`);
  return lines.join('\n');
}

export function loadWeights(d: number): string {
  return Array.from({ length: d }, (_, j) => `  w[${j}] = theta[${j}];`).join('\n');
}

export function reduceGradient(d: number): string {
  return Array.from({ length: d }, (_, j) => `  reduce_to(t, out + ${j}u, g[${j}]);`).join('\n');
}
