/**
 * Decision ConvFormer's training step (docs/spec.md §6.2, §9) as a fixed engine program: the forward pass of
 * src/models/decision-convformer.ts, the masked MSE, its backward pass, the global-norm clip and AdamW. The
 * tfjs model is the reference; test/engine/dc-cpu.test.ts checks this program against it.
 *
 *   X0 = Drop(embed_ln(interleave(E_R, E_s, E_a) + E_t))
 *   for i < n_layer:  X += Conv_i(LN1,i X);  X += Drop(MLP_i(LN2,i X))
 *   â_t = tanh(W_head · LN_f(X)[3t+1] + b_head)
 *
 * Conv_i is three causal depthwise Conv1d (k = 6), one per token type: token l uses the kernel of type l mod 3.
 * No dropout on the conv branch. The pieces are DMM's and Decision Mamba's (models/blocks.ts).
 */
import type { DcConfig } from '../../models/decision-convformer';
import type { EnvDims } from '../../models/sequence-model';
import type { Program } from '../program';
import { ProgramBuilder, type ProgramOptions } from './builder';
import {
  branchesBackward,
  programKey,
  convBranch,
  embeddingBackward,
  embeddingForward,
  embeddingParams,
  headBackward,
  headForward,
  headParams,
  mlpBranch,
  channelMlp,
  mlpParams,
  optimizerStep,
  type Branch,
} from './blocks';

const TYPES = ['rtg_conv1d', 'obs_conv1d', 'act_conv1d'];

export function buildDcProgram(cfg: Readonly<DcConfig>, dims: EnvDims, opts: ProgramOptions): Program {
  const D = cfg.hiddenSize;
  const n = cfg.nLayer;
  const k = cfg.windowSize;
  const b = new ProgramBuilder(D, cfg.contextLength, dims, opts);
  const block = (i: number) => `transformer.h.${i}`;
  const convs = (i: number) => TYPES.map((t) => `${block(i)}.conv.${t}`);
  const site = (i: number) => `h.${i}.mlp`;

  // --- Parameters, in the tfjs model's registration order.
  for (let i = 0; i < n; i++) {
    b.layerNormParams(`${block(i)}.ln_1`);
    for (const c of convs(i)) {
      b.param(`${c}.weight`, [D, 1, k]);
      b.param(`${c}.bias`, [D]);
    }
    b.layerNormParams(`${block(i)}.ln_2`);
    mlpParams(b, channelMlp(`${block(i)}.mlp`, D));
  }
  b.layerNormParams('transformer.ln_f');
  embeddingParams(b, { timesteps: cfg.maxEpLen });
  headParams(b);
  b.layout(['embd', ...Array.from({ length: n }, (_, i) => site(i))], true);

  // --- Forward.
  const emb = embeddingForward(b, { timesteps: cfg.maxEpLen, dropout: b.dropout('embd', cfg.dropout) });
  const layers: { conv: Branch; mlp: Branch }[] = [];
  let x = emb.out;
  for (let i = 0; i < n; i++) {
    const pre = `fwd.layer${i}`;
    const conv = convBranch(b, `${block(i)}.ln_1`, convs(i), k, x, pre, 'ln_1');
    const drop = b.dropout(site(i), cfg.dropout);
    const mlp = mlpBranch(b, `${block(i)}.ln_2`, 1, channelMlp(`${block(i)}.mlp`, D), conv.out, drop, pre, 'ln_2');
    x = mlp.out;
    layers.push({ conv, mlp });
  }
  const head = headForward(b, 'transformer.ln_f', x);
  if (!opts.training) return b.program(programKey('dc', cfg, dims, opts), head.outputs);

  // --- Backward: G through each block's MLP branch, then its conv branch (residuals included).
  const branches = layers.flatMap((la, layer) => [
    { branch: la.conv, layer, ln: 'ln_1' },
    { branch: la.mlp, layer, ln: 'ln_2' },
  ]);
  embeddingBackward(b, emb, branchesBackward(b, headBackward(b, head), branches));
  return optimizerStep(b, programKey('dc', cfg, dims, opts), head.outputs);
}
