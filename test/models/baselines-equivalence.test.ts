/**
 * The restructured baselines compute what the straightforward composite formulation computes: DT's
 * attention against per-head slices, a causal mask built per call, S·keep + (1 − keep)·(−1e4), the padding
 * term tiled per head and tf.matMul with tfjs' own gradient (the formulation before the wasm speed-ups),
 * and the whole DT forward against a composite written here from its parameters. Forward outputs and
 * gradients (w.r.t. the input and every parameter) must agree to float32 round-off, on weights scaled up
 * so attention is far from uniform.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../../src/models';
import { CausalSelfAttention, MASKED_SCORE } from '../../src/models/decision-transformer';
import { ForwardContext } from '../../src/models/sequence-model';
import { dropout } from '../../src/nn';
import { Rng } from '../../src/util/rng';
import { TINY_DIMS, disposeInputs, randomInputs, randomTensor, relErr, setupBackend } from '../helpers/models-fixtures';

/** The composite attention: heads sliced out of QKV, everything rebuilt per call, tf.matMul. */
function compositeAttention(
  attn: CausalSelfAttention,
  x: tf.Tensor,
  ctx: ForwardContext,
  site: string,
  padMask?: tf.Tensor,
): tf.Tensor {
  const [b, l, d] = x.shape;
  const h = attn.nHead;
  const hd = d / h;
  const qkv = x
    .reshape([b * l, d])
    .matMul(attn.cAttn.weight)
    .add(attn.cAttn.bias)
    .reshape([b, l, 3 * d]);
  const heads = (i: number) =>
    qkv
      .slice([0, 0, i * d], [b, l, d])
      .reshape([b, l, h, hd])
      .transpose([0, 2, 1, 3])
      .reshape([b * h, l, hd]);
  const [q, k, v] = [heads(0), heads(1), heads(2)];
  let s = tf.matMul(q, k, false, true).div(Math.sqrt(hd));
  const causal = tf.linalg.bandPart(tf.ones([l, l]), -1, 0);
  s = s.mul(causal).add(tf.scalar(1).sub(causal).mul(MASKED_SCORE));
  if (padMask) {
    const add = tf
      .scalar(1)
      .sub(padMask)
      .mul(MASKED_SCORE)
      .reshape([b, 1, 1, l])
      .tile([1, h, 1, 1])
      .reshape([b * h, 1, l]);
    s = s.add(add);
  }
  const p = dropout(tf.softmax(s, -1), attn.pDrop, ctx, `${site}.attn_pdrop`);
  const o = tf
    .matMul(p, v)
    .reshape([b, h, l, hd])
    .transpose([0, 2, 1, 3])
    .reshape([b * l, d]);
  const y = o.matMul(attn.cProj.weight).add(attn.cProj.bias).reshape([b, l, d]);
  return dropout(y, attn.pDrop, ctx, `${site}.resid_pdrop`);
}

/** Adds seeded noise of std `std` to every parameter, so products and softmaxes are far from trivial. */
function perturb(params: Map<string, tf.Variable>, seed: number, std: number): void {
  let s = seed;
  for (const v of params.values()) v.assign(tf.tidy(() => v.add(randomTensor(v.shape, s++, std))));
}

/** Forward values and gradients of Σ w·f(x) w.r.t. x and every parameter. */
function valueAndGrads(
  f: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  w: tf.Tensor,
  params: Map<string, tf.Variable>,
): { y: Float32Array; gx: Float32Array; g: Map<string, Float32Array> } {
  const y = tf.tidy(() => f(x).dataSync() as Float32Array);
  const gx = tf.tidy(
    () =>
      tf
        .grad((xx: tf.Tensor) => f(xx).mul(w).sum())(x)
        .dataSync() as Float32Array,
  );
  const { value, grads } = tf.variableGrads(() => f(x).mul(w).sum() as tf.Scalar, [...params.values()]);
  const g = new Map([...params].map(([k, v]) => [k, grads[v.name].dataSync() as Float32Array]));
  tf.dispose([value, ...Object.values(grads)]);
  return { y, gx, g };
}

function assertClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  const e = relErr(got, want);
  assert.ok(e < tol, `${label}: relative error ${e.toExponential(2)} (tolerance ${tol})`);
}

describe('baselines: restructured computations equal the composite formulation', () => {
  before(setupBackend);

  for (const [h, padded, training] of [
    [1, false, false],
    [1, true, true],
    [2, true, false],
    [4, false, true],
  ] as const) {
    it(`DT attention, ${h} head(s)${padded ? ', padding mask' : ''}${training ? ', training dropout' : ''}: forward and gradients`, () => {
      const [b, l, d] = [3, 12, 16];
      const attn = new CausalSelfAttention(d, h, 0.1, new Rng(h));
      const params = attn.namedParameters();
      perturb(params, 30 + h, 0.4);
      const x = randomTensor([b, l, d], 5);
      const w = randomTensor([b, l, d], 6);
      const mv = new Float32Array(b * l).fill(1);
      if (padded) for (const i of [0, 1, 2, l, l + 1]) mv[i] = 0; // left padding in two windows
      const padMask = padded ? tf.tensor(mv, [b, l]) : undefined;
      const ctx: ForwardContext = { training, dropoutSeed: 17, tokenMask: tf.ones([b, l]) };
      const got = valueAndGrads((xx) => attn.apply(xx, ctx, 'h.0', padMask), x, w, params);
      const want = valueAndGrads((xx) => compositeAttention(attn, xx, ctx, 'h.0', padMask), x, w, params);
      assertClose('forward', got.y, want.y, 1e-5);
      assertClose('dL/dx', got.gx, want.gx, 1e-5);
      for (const [k, g] of want.g) assertClose(`dL/d${k}`, got.g.get(k)!, g, 1e-5);
      // The scores were not uniform: the outputs differ across positions by much more than round-off.
      assert.ok(relErr(got.y.subarray(0, d), got.y.subarray(d, 2 * d)) > 1e-2);
      attn.dispose();
      tf.dispose([x, w, ctx.tokenMask, ...(padMask ? [padMask] : [])]);
    });
  }

  it('DT forward (eval, padded windows) and gradients equal a composite GPT-2 written from its parameters', () => {
    const cfg = { hiddenSize: 16, nLayer: 2, nHead: 2, contextLength: 4, maxEpLen: 20 };
    const model = createModel('dt', cfg, TINY_DIMS, 3);
    const params = model.trainableParameters();
    perturb(params, 50, 0.2);
    const inputs = randomInputs(TINY_DIMS, 3, cfg.contextLength, 8, cfg.maxEpLen, true);
    const p = (k: string) => params.get(k)!;
    const ln = (x: tf.Tensor, name: string) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return x
        .sub(mean)
        .div(variance.add(1e-5).sqrt())
        .mul(p(`${name}.weight`))
        .add(p(`${name}.bias`));
    };
    const conv1d = (x: tf.Tensor, name: string) => {
      const [b, l, d] = x.shape;
      const [, out] = p(`${name}.weight`).shape;
      return x
        .reshape([b * l, d])
        .matMul(p(`${name}.weight`))
        .add(p(`${name}.bias`))
        .reshape([b, l, out]);
    };
    const composite = (tokens: tf.Tensor) => {
      const [b, l] = tokens.shape;
      const k = l / 3;
      const padMask = tf.stack([inputs.mask, inputs.mask, inputs.mask], 2).reshape([b, l]);
      const ctx: ForwardContext = { training: false, tokenMask: padMask };
      let x = tokens;
      for (let i = 0; i < cfg.nLayer; i++) {
        const block = `transformer.h.${i}`;
        const attn = new Proxy({} as CausalSelfAttention, {
          get: (_, key) =>
            key === 'nHead'
              ? cfg.nHead
              : key === 'pDrop'
                ? 0.1
                : key === 'cAttn'
                  ? { weight: p(`${block}.attn.c_attn.weight`), bias: p(`${block}.attn.c_attn.bias`) }
                  : { weight: p(`${block}.attn.c_proj.weight`), bias: p(`${block}.attn.c_proj.bias`) },
        });
        x = x.add(compositeAttention(attn, ln(x, `${block}.ln_1`), ctx, `h.${i}`, padMask));
        const hdn = tf.relu(conv1d(ln(x, `${block}.ln_2`), `${block}.mlp.c_fc`));
        x = x.add(conv1d(hdn, `${block}.mlp.c_proj`));
      }
      const y = ln(x, 'transformer.ln_f');
      const d = cfg.hiddenSize;
      const s = y
        .reshape([b, k, 3, d])
        .slice([0, 0, 1, 0], [b, k, 1, d])
        .reshape([b * k, d]);
      const head = s.matMul(p('predict_action.0.weight').transpose()).add(p('predict_action.0.bias'));
      return tf.tanh(head).reshape([b, k, TINY_DIMS.actDim]);
    };
    const tokens = model.embed(inputs);
    const w = randomTensor([3, cfg.contextLength, TINY_DIMS.actDim], 9);
    // The action head reads only s tokens, and gradients flow to every backbone parameter.
    const bodyParams = new Map(
      [...params].filter(([k]) => k.startsWith('transformer.h') || k.startsWith('predict_action')),
    );
    const got = valueAndGrads((t) => model.forwardFromTokens(t, inputs, { training: false }), tokens, w, bodyParams);
    const want = valueAndGrads(composite, tokens, w, bodyParams);
    assertClose('forward', got.y, want.y, 1e-5);
    assertClose('dL/dtokens', got.gx, want.gx, 1e-5);
    for (const [k, g] of want.g) assertClose(`dL/d${k}`, got.g.get(k)!, g, 1e-5);
    model.dispose();
    disposeInputs(inputs);
    tf.dispose([tokens, w]);
  });

  it('DT frees its parameters and cached attention masks on dispose (no tensors left)', () => {
    const before = tf.memory().numTensors;
    const model = createModel('dt', { hiddenSize: 16, nLayer: 2, contextLength: 4, maxEpLen: 20 }, TINY_DIMS, 3);
    for (const k of [4, 2]) {
      const inputs = randomInputs(TINY_DIMS, 2, k, 8, 20, true);
      tf.dispose(model.forward(inputs, { training: false }));
      disposeInputs(inputs);
    }
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
