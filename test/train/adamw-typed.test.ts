/**
 * The typed-array AdamW path (src/train/adamw-typed.ts) against the tf-op path of AdamW.apply: bit for bit
 * over several steps with warm-up, large weight decay, bias correction, tiny and large gradients and a
 * parameter without a gradient; also its optimizer state round trip.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { initBackend, tf } from '../../src/backend';
import { AdamW, clipGlobalNorm, warmupLearningRate } from '../../src/train/adamw';
import { typedAdamWApplies } from '../../src/train/adamw-typed';
import { Rng } from '../../src/util/rng';

before(async () => {
  await initBackend({ log: false });
});

function withAdamWPath<T>(path: 'tf' | 'typed', fn: () => T): T {
  const before = process.env.DMM_ADAMW;
  process.env.DMM_ADAMW = path;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.DMM_ADAMW;
    else process.env.DMM_ADAMW = before;
  }
}

const SHAPES: Record<string, number[]> = { w: [7, 5], b: [5], unused: [3] };

function makeParams(seed: number): Map<string, Variable> {
  const rng = new Rng(seed);
  const params = new Map<string, Variable>();
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = shape.reduce((x, y) => x * y, 1);
    params.set(
      name,
      tf.variable(
        tf.tensor(
          Float32Array.from({ length: n }, () => rng.normal()),
          shape,
        ),
      ),
    );
  }
  return params;
}

test('the typed path is the default on this backend (cpu or wasm) and DMM_ADAMW=tf turns it off', () => {
  assert.ok(['cpu', 'wasm'].includes(tf.getBackend()), `tests run on cpu or wasm, got ${tf.getBackend()}`);
  assert.equal(typedAdamWApplies(), true);
  assert.equal(
    withAdamWPath('tf', () => typedAdamWApplies()),
    false,
  );
  assert.throws(() => {
    process.env.DMM_ADAMW = 'fast';
    try {
      typedAdamWApplies();
    } finally {
      delete process.env.DMM_ADAMW;
    }
  }, /DMM_ADAMW must be 'tf' or 'typed', got 'fast'/);
});

test('typed AdamW equals the tf-op AdamW bit for bit over 8 steps (decay, bias correction, warm-up)', () => {
  const paths = ['tf', 'typed'] as const;
  const params = paths.map(() => makeParams(11));
  const opts = paths.map((_, k) => new AdamW(params[k], { weightDecay: 0.1 }));
  const rng = new Rng(12);
  for (let step = 1; step <= 8; step++) {
    const lr = warmupLearningRate(step, 3e-2, 3);
    const grads = new Map<string, Tensor>();
    for (const [name, shape] of Object.entries(SHAPES)) {
      if (name === 'unused') continue; // no gradient: must be left alone, decay included
      const n = shape.reduce((x, y) => x * y, 1);
      const scale = step % 3 === 0 ? 1e-6 : step % 3 === 1 ? 1 : 50;
      grads.set(
        name,
        tf.tensor(
          Float32Array.from({ length: n }, () => rng.normal() * scale),
          shape,
        ),
      );
    }
    paths.forEach((path, k) => withAdamWPath(path, () => opts[k].apply(grads, lr)));
    tf.dispose([...grads.values()]);
  }
  const states = opts.map((o) => o.getState());
  for (const name of Object.keys(SHAPES)) {
    const [a, b] = params.map((p) => p.get(name)!.dataSync());
    assert.deepEqual(Array.from(b), Array.from(a), `θ ${name}`);
    assert.deepEqual(Array.from(states[1].m[name].data), Array.from(states[0].m[name].data), `m ${name}`);
    assert.deepEqual(Array.from(states[1].v[name].data), Array.from(states[0].v[name].data), `v ${name}`);
  }
  // The parameter without a gradient kept its initial values on both paths.
  assert.deepEqual(
    Array.from(params[1].get('unused')!.dataSync()),
    Array.from(makeParams(11).get('unused')!.dataSync()),
  );
  // And the update did move the others.
  assert.notDeepEqual(Array.from(params[1].get('w')!.dataSync()), Array.from(makeParams(11).get('w')!.dataSync()));
  assert.equal(states[1].step, 8);
  opts.forEach((o) => o.dispose());
});

test('typed AdamW resumes from getState/setState like an uninterrupted run', () => {
  const run = (split: boolean): Float32Array => {
    const params = makeParams(21);
    let opt = new AdamW(params, { weightDecay: 0.01 });
    const rng = new Rng(22);
    for (let step = 1; step <= 5; step++) {
      if (split && step === 3) {
        const state = opt.getState();
        opt.dispose();
        opt = new AdamW(params, { weightDecay: 0.01 });
        opt.setState(state);
      }
      const grads = new Map<string, Tensor>();
      for (const name of ['w', 'b']) {
        const shape = SHAPES[name];
        const n = shape.reduce((x, y) => x * y, 1);
        grads.set(
          name,
          tf.tensor(
            Float32Array.from({ length: n }, () => rng.normal()),
            shape,
          ),
        );
      }
      withAdamWPath('typed', () => opt.apply(grads, 1e-2));
      tf.dispose([...grads.values()]);
    }
    opt.dispose();
    return params.get('w')!.dataSync() as Float32Array;
  };
  assert.deepEqual(Array.from(run(true)), Array.from(run(false)));
});

test('typed global-norm clip: unchanged below the limit, float32-close to the tf ops above it', () => {
  const rng = new Rng(31);
  const grads = new Map<string, Tensor>();
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = shape.reduce((x, y) => x * y, 1);
    grads.set(
      name,
      tf.tensor(
        Float32Array.from({ length: n }, () => rng.normal()),
        shape,
      ),
    );
  }
  for (const maxNorm of [0.25, 1e3]) {
    const [tfPath, typed] = (['tf', 'typed'] as const).map((path) =>
      withAdamWPath(path, () => clipGlobalNorm(grads, maxNorm)),
    );
    const nTf = tfPath.norm.dataSync()[0];
    const nTyped = typed.norm.dataSync()[0];
    assert.ok(Math.abs(nTyped - nTf) <= 1e-6 * nTf, `norm ${nTyped} vs ${nTf}`);
    for (const [name, g] of grads) {
      const a = tfPath.grads.get(name)!.dataSync();
      const b = typed.grads.get(name)!.dataSync();
      const src = g.dataSync();
      for (let i = 0; i < a.length; i++) {
        if (maxNorm > nTf) assert.equal(b[i], src[i], `${name}[${i}] must be unchanged without clipping`);
        else assert.ok(Math.abs(b[i] - a[i]) <= 2e-7 * Math.abs(a[i]) + 1e-12, `${name}[${i}]: ${b[i]} vs ${a[i]}`);
      }
      // Clipping really happened for the small limit.
      if (maxNorm < nTf) assert.ok(Math.abs(b[0]) < Math.abs(src[0]));
    }
    tf.dispose([tfPath.norm, typed.norm, ...tfPath.grads.values(), ...typed.grads.values()]);
  }
  tf.dispose([...grads.values()]);
});
