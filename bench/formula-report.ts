// The formula suite's rows and table (bench/suite/formula-step.ts), apart from report.ts for its size;
// report.ts re-exports them.
import { configKey } from './suite/read-plan.ts';
import type { ReadReference } from './suite/read-sweep.ts';
import { kernelCell, num, pct, peerMs, sizeLabel, target, times } from './format.ts';

/** A gradient kernel of GpuFormulaEngine: which one (kernelKind), its grid, and where the grid came from. */
export interface FormulaKernelCell {
  kind: 'linear-quad' | 'linear-predictor' | 'generated';
  workgroupSize: number;
  groups: number;
  /** Absent in files written before the layout was tuned: strided. */
  layout?: 'strided' | 'blocked';
  /** Blocked: consecutive blocks a thread takes (absent: 1). */
  span?: number;
  source: string;
}

/**
 * Suite 'formula' (bench/suite/formula-step.ts): one row per (formula and loss, N). nabla is the kernel the
 * compiler picks (GpuFormulaEngine.lossAndGradient); every time is wall clock from the call to the values on the host.
 */
export interface FormulaRow {
  suite: 'formula';
  /** The case's key (bench/suite/formula-cases.ts), its formula and loss as typed. */
  case: string;
  formula: string;
  loss: string;
  n: number;
  /** Columns per row (features; the target is read besides). */
  width: number;
  /** n * (width + 1) * 4: what one evaluation must read. */
  bytes: number;
  /** nabla, timed in alternation with the read reference's winner. */
  ms: number | null;
  msMin: number | null;
  msMax: number | null;
  gbps: number | null;
  repetitions: number;
  /** Against the float64 twin over every row: each component within FORMULA_REL_TOL (1e-4) of its mean |term|. */
  validation: string;
  /** max |error| / mean |term| over the components (formulaError). */
  relError: number | null;
  /** The kernel the compiler picked and timed (kind absent in older files: the generated one), its grid and where it came from. */
  kernel: (Omit<FormulaKernelCell, 'kind'> & { kind?: FormulaKernelCell['kind'] }) | null;
  read: ReadReference | null;
  fractionOfRead: number | null;
  jaxMs: number | null;
  vsJax: number | null;
  jaxValidation: string;
  jaxRelError: number | null;
  /**
   * Where the compiler specialises the model (linear(...) with mse: the quad kernel), its two choices over the
   * same rows, timed in alternation: genericMs = the generic generated kernel (an engine built with
   * specialize: false), pickPairedMs = the compiler's pick from the same loop; pickVsGeneric = genericMs /
   * pickPairedMs (above 1 = the pick is faster). Absent from result files written before the hand-written
   * engine was deleted.
   */
  genericMs?: number | null;
  pickPairedMs?: number | null;
  pickVsGeneric?: number | null;
  /** The generic engine's check against the float64 twin over every row, as `validation`; 'not run' where the compiler does not specialise. */
  genericValidation?: string;
  genericKernel?: FormulaKernelCell | null;
  /**
   * Older result files only: the deleted hand-written GpuLinearEngine.gradient beside the generated kernel
   * (linear(...) with mse), timed in alternation; vsHand = handMs / genPairedMs.
   */
  handMs?: number | null;
  genPairedMs?: number | null;
  vsHand?: number | null;
  handValidation?: string;
  handKernel?: string | null;
  notes: string[];
}

/**
 * Issue #18's targets for the formula suite: reported, not tuned for. vsHand applies to older result files
 * (the generated kernel against the deleted hand-written linear engine).
 */
export const FORMULA_TARGETS = { vsJax: 5, fractionOfRead: 0.9, vsHand: 0.95 } as const;

/**
 * The formula suite: `case | N | W | ms | GB/s` first, then the yardstick, jax-js, the compiler's two choices
 * where it specialises (older files: the hand-written linear engine), the checks, and whether issue #18's
 * targets were met.
 */
export function formatFormulaTable(rows: readonly FormulaRow[]): string {
  // Files written while the hand-written linear engine existed carry handValidation on every row.
  const legacy = rows.some((r) => r.handValidation !== undefined);
  const choiceHead = legacy ? ['hand-written ms', 'vs hand-written'] : ['generic kernel ms', 'pick vs generic'];
  const head = ['case', 'formula', 'loss', 'N', 'W', 'nabla ms (min–max)', 'GB/s', 'nabla kernel', 'best read ms', 'vs read', 'jax-js ms', 'vs jax-js',
    ...choiceHead, 'check'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const ms = r.ms === null ? '—' : `${num(r.ms, 3)} (${num(r.msMin, 3)}–${num(r.msMax, 3)})`;
    const choice = legacy
      ? [peerMs(r.handMs ?? null, r.handValidation ?? 'not run'), times(r.vsHand ?? null)]
      : [peerMs(r.genericMs ?? null, r.genericValidation ?? 'not run'), times(r.pickVsGeneric ?? null)];
    const cells = [r.case, `\`${r.formula.replace(/linear\(x1, [^)]*, x16\)/, 'linear(x1..x16)')}\``, r.loss, sizeLabel(r.n), String(r.width), ms, num(r.gbps),
      r.kernel ? kernelCell(r.kernel) : '—', num(r.read?.ms ?? null, 3), pct(r.fractionOfRead), peerMs(r.jaxMs, r.jaxValidation), times(r.vsJax),
      ...choice, r.validation.split(/ \(|:/)[0]];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const t = FORMULA_TARGETS;
  lines.push('', `targets (issue #18): vs jax-js ≥ ${t.vsJax}×, vs read ≥ ${t.fractionOfRead * 100}%${legacy ? `, generated linear/mse vs hand-written ≥ ${t.vsHand}×` : ''}`);
  for (const r of rows) {
    const hand = !legacy || (r.handMs == null && r.handValidation === 'not run') ? '' : `, vs hand-written ${target(r.vsHand ?? null, t.vsHand)}`;
    lines.push(`- ${r.case} N = ${sizeLabel(r.n)}: vs jax-js ${target(r.vsJax, t.vsJax)}, vs read ${target(r.fractionOfRead, t.fractionOfRead)}${hand}`);
  }
  const notes = rows.flatMap((r) => {
    const where = `${r.case} N = ${sizeLabel(r.n)}`;
    const out = r.notes.map((text) => `- ${where}: ${text}`);
    if (r.validation.startsWith('failed')) out.unshift(`- ${where}: nabla ${r.validation}`);
    if (r.genericValidation?.startsWith('failed')) out.push(`- ${where}: generic kernel ${r.genericValidation}`);
    if (r.read) {
      out.push(`- ${where}: read sweep ${r.read.candidates} candidates, ${r.read.rejected} rejected, ${r.read.sweepSeconds.toFixed(1)} s; winner ${configKey(r.read.config)}, `
        + `${num(r.read.gbps)} GB/s on the wall clock`);
    }
    return out;
  });
  if (notes.length) lines.push('', 'notes:', ...notes);
  lines.push('', 'All ms: wall clock from the call to (∇J, J) on the host, median after warm-up; GB/s = N·(W + 1)·4 bytes / ms. "nabla kernel" = the '
    + 'kernel the compiler picked (linear-quad: the hand-tuned quad kernel for a linear shape with mse; generated: the emitted row body), its grid and where '
    + 'the grid came from. "vs read" = the best read kernel\'s time over the same bytes / nabla\'s, in alternation; "vs jax-js" = jax-js ms / nabla ms '
    + '(jit(valueAndGrad) with the rows captured); '
    + (legacy
      ? '"vs hand-written" = GpuLinearEngine.gradient ms / the generated kernel\'s, timed in alternation.'
      : '"generic kernel ms" = the generic generated kernel (an engine built with specialize: false) where the compiler picks another, "pick vs generic" = '
        + 'its ms / the pick\'s ms, the two timed in alternation (above 1 = the pick is faster).'));
  return lines.join('\n');
}
