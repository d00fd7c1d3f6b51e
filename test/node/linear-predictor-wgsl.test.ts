// The linear predictor kernel's defines (src/gpu/formula/linear-predictor-pass.ts) are pure: which models it
// takes, how a row is chunked and the threads laid over the chunks, where each output of the row comes from,
// and that its workgroup memory fits. The kernel itself is checked against the twin in
// test/gpu/formula-linear-predictor.test.ts.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { linearPredictor } from '../../src/formula/shapes.ts';
import { linearPredictorDefines, predictorChunks, predictorFor, TILE_THREAD_ROWS } from '../../src/gpu/formula/linear-predictor-pass.ts';

const STORAGE = 16384;
const NONE = 0xffffffff;

function compiled(d: number, formula = (cols: string) => `y ~ linear(${cols})`, loss = 'mse', weights: string | null = null) {
  const columns = Array.from({ length: d }, (_, k) => `x${k + 1}`);
  const model = compileFormula({ formula: formula(columns.join(', ')), loss, weights }, { columns: [...columns, 'y', ...(weights ? [weights] : [])] });
  return { model, program: gradientProgram(model), shape: linearPredictor(model) };
}

const u32s = (text: string) => text.split(', ').map((v) => Number(v.replace('u', '')));

describe('linear predictor kernel: defines', () => {
  it('takes wide linear predictors only, within the workgroup memory', () => {
    for (const [d, takes] of [[64, false], [65, true], [300, true]] as const) {
      const { model, program } = compiled(d);
      expect(predictorFor(model, program, STORAGE) !== null, `d = ${d}`).toBe(takes);
    }
    const wide = compiled(2000); // 8,000 bytes of coefficients, 1,280 of slopes and one reduce row at workgroups of 64
    expect(predictorFor(wide.model, wide.program, STORAGE)?.weights).toEqual(wide.shape?.weights);
    expect(predictorFor(wide.model, wide.program, 9_000)).toBeNull();
    const notGlm = compiled(100, (cols) => `y ~ linear(${cols}) + c * x1^2`);
    expect(predictorFor(notGlm.model, notGlm.program, STORAGE)).toBeNull();
  });

  it('chunks a row as vec4s where its width allows, and lays the threads over the chunks', () => {
    expect([predictorChunks(128), predictorChunks(98), predictorChunks(300)]).toEqual([32, 98, 75]);
    const at = (d: number, wg: number, weights: string | null = null) => {
      const { program, shape } = compiled(d, undefined, 'mse', weights);
      const def = linearPredictorDefines(program, shape!, wg, STORAGE);
      return { CHUNK: def.CHUNK, C: def.C, SLOTS: def.SLOTS, CPT: def.CPT, TILE: def.TILE };
    };
    expect(at(128, 64)).toEqual({ CHUNK: 4, C: 32, SLOTS: 2, CPT: 1, TILE: TILE_THREAD_ROWS * 64 });
    expect(at(128, 256)).toEqual({ CHUNK: 4, C: 32, SLOTS: 8, CPT: 1, TILE: TILE_THREAD_ROWS * 256 });
    expect(at(300, 64)).toEqual({ CHUNK: 4, C: 75, SLOTS: 1, CPT: 2, TILE: TILE_THREAD_ROWS * 64 });
    expect(at(97, 64, 'wt')).toEqual({ CHUNK: 1, C: 98, SLOTS: 1, CPT: 2, TILE: TILE_THREAD_ROWS * 64 });
  });

  it("maps each output to its column sum or to the reduced program's output, in the model's parameter order", () => {
    const { model, program, shape } = compiled(65, (cols) => `y ~ a * tanh(linear(${cols})) + c`, 'huber:1');
    const def = linearPredictorDefines(program, shape!, 64, STORAGE);
    const column = u32s(def.OUT_COLUMN);
    const scalar = u32s(def.OUT_SCALAR);
    const P = model.params.length;
    expect(column).toHaveLength(P + 1);
    model.params.forEach((name, p) => {
      if (name.startsWith('w_')) expect(column[p], name).toBe(model.features.indexOf(name.slice(2)));
      else expect([column[p], scalar[p]], name).toEqual([NONE, { b: 0, a: 1, c: 2 }[name]]);
    });
    expect([column[P], scalar[P]]).toEqual([NONE, 3]); // the loss: the reduced program's last output
    expect(def.SCALARS).toBe(4);
    const coef = u32s(def.COEF_PARAM);
    expect(coef.map((p) => model.params[p])).toEqual(model.features.map((f) => `w_${f}`));
    const weighted = compiled(67, undefined, 'mse', 'wt'); // 68 floats a row: the weight's coefficient is none
    expect(u32s(linearPredictorDefines(weighted.program, weighted.shape!, 64, STORAGE).COEF_PARAM).slice(67)).toEqual([NONE]);
    expect(def.ROW_BODY).toContain('nabla_slope = ');
    expect(def.LOAD_PARAMS.split('\n')).toHaveLength(3);
  });

  it('binds the row weight in a weighted model, and fits the workgroup memory at every size tried', () => {
    const weighted = compiled(97, undefined, 'poisson', 'wt');
    expect(linearPredictorDefines(weighted.program, weighted.shape!, 64, STORAGE).ROW_BODY).toContain('let w = x_at(row * W + FEATURES);');
    for (const d of [65, 128, 300, 2000]) {
      const { program, shape } = compiled(d);
      for (const wg of [64, 256]) {
        const def = linearPredictorDefines(program, shape!, wg, STORAGE);
        const bytes = 4 * (def.C * def.CHUNK + def.TILE + def.SCRATCH);
        expect(bytes, `d = ${d}, wg = ${wg}`).toBeLessThanOrEqual(STORAGE);
        expect(def.SCRATCH).toBe(wg * def.TREE_ROWS);
      }
    }
  });
});
