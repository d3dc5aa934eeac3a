/**
 * Decision Transformer's training step (docs/spec.md §6.1, §9) as a fixed engine program: the forward pass of
 * src/models/decision-transformer.ts, the masked MSE, its backward pass, the global-norm clip and AdamW. The
 * tfjs model is the reference; test/engine/dt-cpu.test.ts checks this program against it.
 *
 *   X0 = Drop(embed_ln(interleave(E_R, E_s, E_a) + E_t))
 *   for i < n_layer:  X += Drop(c_proj(Attn(c_attn(LN1 X))));  X += Drop(MLP(LN2 X))     GPT-2 blocks, one head
 *   â_t = tanh(W_head · LN_f(X)[3t+1] + b_head)
 *
 * The attention masks future scores (replaced by −1e4) and padded keys (−1e4 added), and drops its
 * probabilities; the MLP is ReLU. `wte` and the state and return heads exist, counted and checkpointed, but the
 * loss never reaches them, so AdamW leaves them alone as PyTorch does (docs/spec.md quirk 11).
 */
import type { DtConfig } from '../../models/decision-transformer';
import type { EnvDims } from '../../models/sequence-model';
import type { Program } from '../program';
import { ProgramBuilder, type ProgramOptions } from './builder';
import {
  attentionBranch,
  attentionParams,
  branchesBackward,
  programKey,
  embeddingBackward,
  embeddingForward,
  embeddingParams,
  gpt2Mlp,
  headBackward,
  headForward,
  headParams,
  mlpBranch,
  mlpParams,
  optimizerStep,
  type Branch,
} from './blocks';

/** Why the engine cannot run `cfg`, or null when it can. */
export function dtEngineGap(cfg: Readonly<DtConfig>): string | null {
  return cfg.nHead === 1 ? null : `nHead ${cfg.nHead} (one head only)`;
}

export function buildDtProgram(cfg: Readonly<DtConfig>, dims: EnvDims, opts: ProgramOptions): Program {
  const gap = dtEngineGap(cfg);
  if (gap)
    throw new Error(`Error in buildDtProgram: the fused engine does not cover ${gap}; train it with --engine tfjs.`);
  const D = cfg.hiddenSize;
  const n = cfg.nLayer;
  const b = new ProgramBuilder(D, cfg.contextLength, dims, opts);
  const block = (i: number) => `transformer.h.${i}`;
  const sites = (i: number) => [`h.${i}.attn_pdrop`, `h.${i}.resid_pdrop`, `h.${i}.mlp`];

  // --- Parameters, in the tfjs model's registration order.
  b.param('transformer.wte.weight', [1, D], false);
  for (let i = 0; i < n; i++) {
    b.layerNormParams(`${block(i)}.ln_1`);
    attentionParams(b, `${block(i)}.attn`);
    b.layerNormParams(`${block(i)}.ln_2`);
    mlpParams(b, gpt2Mlp(`${block(i)}.mlp`, D));
  }
  b.layerNormParams('transformer.ln_f');
  embeddingParams(b, { timesteps: cfg.maxEpLen });
  b.param('predict_state.weight', [b.S, D], false);
  b.param('predict_state.bias', [b.S], false);
  headParams(b);
  b.param('predict_return.weight', [1, D], false);
  b.param('predict_return.bias', [1], false);
  b.layout(['embd', ...Array.from({ length: n }, (_, i) => sites(i)).flat()], true);

  // --- Forward.
  const emb = embeddingForward(b, { timesteps: cfg.maxEpLen, dropout: b.dropout('embd', cfg.dropout) });
  const layers: { attn: Branch; mlp: Branch }[] = [];
  let x = emb.out;
  for (let i = 0; i < n; i++) {
    const pre = `fwd.layer${i}`;
    const [pAttn, pResid, pMlp] = sites(i).map((s) => b.dropout(s, cfg.dropout));
    const attn = attentionBranch(
      b,
      `${block(i)}.ln_1`,
      `${block(i)}.attn`,
      x,
      { attn: pAttn, resid: pResid },
      pre,
      'ln_1',
    );
    const mlp = mlpBranch(b, `${block(i)}.ln_2`, 1, gpt2Mlp(`${block(i)}.mlp`, D), attn.out, pMlp, pre, 'ln_2');
    x = mlp.out;
    layers.push({ attn, mlp });
  }
  const head = headForward(b, 'transformer.ln_f', x);
  if (!opts.training) return b.program(programKey('dt', cfg, dims, opts), head.outputs);

  // --- Backward: G through each block's MLP half, then its attention half (residuals included).
  const branches = layers.flatMap((la, layer) => [
    { branch: la.attn, layer, ln: 'ln_1' },
    { branch: la.mlp, layer, ln: 'ln_2' },
  ]);
  embeddingBackward(b, emb, branchesBackward(b, headBackward(b, head), branches));
  return optimizerStep(b, programKey('dt', cfg, dims, opts), head.outputs);
}
