/**
 * The DSM against docs/spec.md §3.2's index formula, and the Mamba-2 mixer (mapped onto selectiveScan by
 * broadcasting) against an independent float64 plain-JS per-head recurrence (docs/spec.md §3.6).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DenseSequenceMixer, Mamba2Block } from '../../src/models';
import { ConvolutionTokenMixer } from '../../src/models/decision-convformer';
import { Rng } from '../../src/util/rng';
import { randomTensor, relErr, setupBackend } from '../helpers/models-fixtures';

const arr = (t: tf.Tensor) => Float64Array.from(t.dataSync());

describe('local and global mixers vs float64 definitions', () => {
  before(setupBackend);

  it('DSM: out_i[o] = Σ_j Σ_c W[o, jD+c] · U[i−k+1+j][c], zeros before the start', () => {
    for (const [k, l] of [
      [6, 9],
      [1, 4],
      [3, 2],
    ]) {
      const d = 5;
      const dsm = new DenseSequenceMixer(d, k, new Rng(k));
      const w = randomTensor([d, k * d], 9);
      (dsm.weight as tf.Variable).assign(w);
      const u = randomTensor([2, l, d], 10);
      const got = dsm.apply(u).dataSync();
      const W = arr(w);
      const U = arr(u);
      const want: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let i = 0; i < l; i++)
          for (let o = 0; o < d; o++) {
            let s = 0;
            for (let j = 0; j < k; j++) {
              const p = i - k + 1 + j;
              if (p < 0) continue;
              for (let c = 0; c < d; c++) s += W[o * k * d + j * d + c] * U[(b * l + p) * d + c];
            }
            want.push(s);
          }
      assert.ok(relErr(got, want) < 1e-5, `k=${k} L=${l}: ${relErr(got, want)}`);
    }
  });

  it('DC token mixer: y_i[c] = b_τ[c] + Σ_j w_τ[c, j] · X[i−5+j][c] with τ = i mod 3 (docs/spec.md §6.2)', () => {
    const [d, k, l] = [4, 6, 12];
    const mixer = new ConvolutionTokenMixer(d, k, new Rng(8));
    const x = randomTensor([2, l, d], 12);
    const got = mixer.apply(x).dataSync();
    const X = arr(x);
    const w = mixer.convs.map((c) => arr(c.weight)); // [D, 1, k] each
    const bias = mixer.convs.map((c) => arr(c.bias));
    const want: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < l; i++)
        for (let c = 0; c < d; c++) {
          const tau = i % 3;
          let s = bias[tau][c];
          for (let j = 0; j < k; j++) {
            const p = i - k + 1 + j;
            if (p >= 0) s += w[tau][c * k + j] * X[(b * l + p) * d + c];
          }
          want.push(s);
        }
    assert.ok(relErr(got, want) < 1e-5, `relative error ${relErr(got, want)}`);
  });

  it('Mamba-2 block equals the float64 per-head recurrence S_h ← exp(Δ_h A_h) S_h + Δ_h x_h Bᵀ', () => {
    const d = 32;
    const h = d / 16;
    const n = 128;
    const [bsz, l] = [2, 7];
    const block = new Mamba2Block(d, new Rng(4));
    // Larger weights than the N(0, 0.02²) init, so every term matters.
    let s = 100;
    for (const v of block.namedParameters().values()) v.assign(tf.tidy(() => v.add(randomTensor(v.shape, s++, 0.3))));
    const u = randomTensor([bsz, l, d], 50);
    const ctx = { training: false, tokenMask: tf.ones([bsz, l]) };
    const got = block.apply(u, ctx, 'x').dataSync();

    const p = new Map([...block.namedParameters()].map(([k, v]) => [k, arr(v)]));
    const Win = p.get('in_proj.weight')!; // [2D + 2N + H, D]
    const Wout = p.get('out_proj.weight')!;
    const [dtBias, aLog, dSkip, wNorm] = ['dt_bias', 'A_log', 'D', 'norm.weight'].map((k) => p.get(k)!);
    const U = arr(u);
    const width = 2 * d + 2 * n + h;
    const silu = (v: number) => v / (1 + Math.exp(-v));
    const softplus = (v: number) => (v > 20 ? v : Math.log1p(Math.exp(v)));
    const want: number[] = [];
    for (let b = 0; b < bsz; b++) {
      const S = Array.from({ length: h }, () => new Float64Array(16 * n));
      for (let t = 0; t < l; t++) {
        const proj = new Float64Array(width);
        for (let o = 0; o < width; o++) {
          let acc = 0;
          for (let c = 0; c < d; c++) acc += Win[o * d + c] * U[(b * l + t) * d + c];
          proj[o] = acc;
        }
        const z = proj.subarray(0, d);
        const xbc = Array.from(proj.subarray(d, 2 * d + 2 * n), silu);
        const x = xbc.slice(0, d);
        const B = xbc.slice(d, d + n);
        const C = xbc.slice(d + n, d + 2 * n);
        const y = new Float64Array(d);
        for (let hh = 0; hh < h; hh++) {
          const delta = softplus(proj[2 * d + 2 * n + hh] + dtBias[hh]);
          const decay = Math.exp(delta * -Math.exp(aLog[hh]));
          for (let i = 0; i < 16; i++) {
            const ch = 16 * hh + i;
            let yi = 0;
            for (let j = 0; j < n; j++) {
              const sv = decay * S[hh][i * n + j] + delta * x[ch] * B[j];
              S[hh][i * n + j] = sv;
              yi += sv * C[j];
            }
            y[ch] = yi + dSkip[hh] * x[ch];
          }
        }
        const g = Array.from(y, (v, c) => v * silu(z[c]));
        const rms = Math.sqrt(g.reduce((acc, v) => acc + v * v, 0) / d + 1e-5);
        const gn = g.map((v, c) => (v / rms) * wNorm[c]);
        for (let o = 0; o < d; o++) want.push(gn.reduce((acc, v, c) => acc + Wout[o * d + c] * v, 0));
      }
    }
    const err = relErr(got, want);
    assert.ok(err < 1e-4, `relative error ${err}`);
    block.dispose();
  });
});
