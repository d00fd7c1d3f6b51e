// Cell formatting shared by the suites' tables (report.ts, formula-report.ts).

export function sizeLabel(v: number): string {
  const k = Math.log2(v);
  return Number.isInteger(k) && k >= 10 ? `2^${k}` : String(v);
}

export function num(v: number | null, digits = 2): string {
  if (v === null) return '—';
  if (Math.abs(v) >= 1e6) return v.toExponential(2);
  return v.toFixed(Math.abs(v) >= 100 ? Math.max(0, digits - 2) : digits);
}

export function times(v: number | null): string {
  return v === null ? '—' : `${num(v)}×`;
}

export function pct(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`;
}

/** A peer's cell: its ms, or why it has none. */
export function peerMs(ms: number | null, validation: string): string {
  if (ms !== null) return num(ms, 3);
  if (validation === 'not run') return '—';
  return validation.startsWith('skipped') ? 'skipped' : validation.startsWith('failed') ? 'FAILED' : '—';
}

/** A formula kernel as `kind groups×size [blocked] (source)`; a GpuLinearEngine configuration (older files) as it printed them. */
export function kernelCell(k: { kind?: string; workgroupSize: number; groups: number; layout?: string; span?: number; source: string }): string {
  const layout = k.layout === 'blocked' ? ` blocked${(k.span ?? 1) > 1 ? ` span ${k.span}` : ''}` : '';
  return `${k.kind ? `${k.kind} ` : ''}${k.groups}×${k.workgroupSize}${layout} (${k.source})`;
}

/** 'met' / 'NOT met' against a target, '—' without a figure. */
export function target(v: number | null, goal: number): string {
  return v === null ? '—' : v >= goal ? 'met' : 'NOT met';
}
