import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { initBackend, tf } from '../../src/backend';
import { AdamW, clipGlobalNorm, warmupLearningRate } from '../../src/train/adamw';
import { Rng } from '../../src/util/rng';

before(async () => {
  await initBackend({ log: false });
});

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

test('AdamW matches a float64 reference of PyTorch AdamW (decay first, ε after bias correction)', () => {
  const rng = new Rng(7);
  const shapes: Record<string, number[]> = { a: [3, 4], b: [5] };
  const ref: Record<string, { p: Float64Array; m: Float64Array; v: Float64Array }> = {};
  const params = new Map<string, Variable>();
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((x, y) => x * y, 1);
    const p = Float64Array.from({ length: n }, () => rng.normal());
    ref[name] = { p, m: new Float64Array(n), v: new Float64Array(n) };
    params.set(name, tf.variable(tf.tensor(Float32Array.from(p), shape)));
  }
  const wd = 0.05; // large, so a wrong decay order shows
  const opt = new AdamW(params, { weightDecay: wd });
  for (let k = 1; k <= 6; k++) {
    const lr = warmupLearningRate(k, 1e-2, 4);
    const grads = new Map<string, Tensor>();
    for (const [name, shape] of Object.entries(shapes)) {
      const g = Float64Array.from({ length: ref[name].p.length }, () => rng.normal() * (k % 2 ? 1e-3 : 1));
      grads.set(name, tf.tensor(Float32Array.from(g), shape));
      const r = ref[name];
      for (let i = 0; i < g.length; i++) {
        r.p[i] *= 1 - lr * wd;
        r.m[i] = 0.9 * r.m[i] + 0.1 * g[i];
        r.v[i] = 0.999 * r.v[i] + 0.001 * g[i] * g[i];
        const mh = r.m[i] / (1 - 0.9 ** k);
        const vh = r.v[i] / (1 - 0.999 ** k);
        r.p[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
    opt.apply(grads, lr);
    for (const g of grads.values()) g.dispose();
  }
  assert.equal(opt.step, 6);
  for (const [name, v] of params) {
    const e = relErr(v.dataSync(), ref[name].p);
    assert.ok(e < 1e-6, `${name}: relative error ${e}`);
  }
  // A state round trip restores the exact moments.
  const st = opt.getState();
  const opt2 = new AdamW(params, { weightDecay: wd });
  opt2.setState(st);
  assert.deepEqual(opt2.getState(), st);
  opt.dispose();
  opt2.dispose();
});

test('warm-up is linear over warmupSteps, then constant (k is 1-based)', () => {
  assert.equal(warmupLearningRate(1, 1e-4, 10000), 1e-8);
  assert.equal(warmupLearningRate(5000, 1e-4, 10000), 5e-5);
  assert.equal(warmupLearningRate(10000, 1e-4, 10000), 1e-4);
  assert.equal(warmupLearningRate(50000, 1e-4, 10000), 1e-4);
});

test('global norm clipping scales by 0.25/(‖g‖+1e-6) above 0.25 and leaves smaller gradients alone', () => {
  const big = new Map<string, Tensor>([
    ['x', tf.tensor([3, 0])],
    ['y', tf.tensor([[0, 4]])],
  ]);
  const { grads, norm } = clipGlobalNorm(big, 0.25);
  assert.ok(Math.abs(norm.dataSync()[0] - 5) < 1e-6);
  const c = 0.25 / (5 + 1e-6);
  assert.ok(relErr(grads.get('x')!.dataSync(), [3 * c, 0]) < 1e-6);
  assert.ok(relErr(grads.get('y')!.dataSync(), [0, 4 * c]) < 1e-6);
  const small = new Map<string, Tensor>([['x', tf.tensor([0.1, -0.1])]]);
  const out = clipGlobalNorm(small, 0.25);
  assert.deepEqual(Array.from(out.grads.get('x')!.dataSync()), Array.from(small.get('x')!.dataSync()));
  tf.dispose([...big.values(), ...grads.values(), norm, ...small.values(), ...out.grads.values(), out.norm]);
});
