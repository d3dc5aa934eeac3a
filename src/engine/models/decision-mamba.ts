/**
 * Decision Mamba's training step (docs/spec.md §5, §9) as a fixed engine program: the forward pass of
 * src/models/decision-mamba.ts, the masked MSE, its backward pass, the global-norm clip and AdamW. The tfjs
 * model is the reference; test/engine/dmamba-cpu.test.ts checks this program against it.
 *
 *   X0 = Drop(embed_ln(interleave(E_R, E_s, E_a) + E_t))            E_t: the timestep table, on all three tokens
 *   for i < n_layer:  X += Mamba_i(LN_a,i X);  X += Drop(MLP_i(LN_b,i X))   stock Mamba: expand 2, conv k 4
 *   â_t = tanh(W_head · LN_f(X)[3t+1] + b_head)
 *
 * No local mixer; every block has its own two LayerNorms. `channelMlp: false` (the paper's A1 ablation)
 * drops LN_b and the MLP. The pieces are DMM's (models/blocks.ts).
 */
import type { DmambaConfig } from '../../models/decision-mamba';
import type { EnvDims } from '../../models/sequence-model';
import type { Program } from '../program';
import { ProgramBuilder, type ProgramOptions } from './builder';
import {
  branchesBackward,
  programKey,
  embeddingBackward,
  embeddingForward,
  embeddingParams,
  headBackward,
  headForward,
  headParams,
  mambaBranch,
  mambaParams,
  mambaShape,
  mlpBranch,
  channelMlp,
  mlpParams,
  optimizerStep,
  type Branch,
} from './blocks';

/** Why the engine cannot run `cfg`, or null when it can: every Decision Mamba configuration is covered. */
export function dmambaEngineGap(cfg: Readonly<DmambaConfig>): string | null {
  void cfg;
  return null;
}

export function buildDmambaProgram(cfg: Readonly<DmambaConfig>, dims: EnvDims, opts: ProgramOptions): Program {
  const D = cfg.hiddenSize;
  const n = cfg.nLayer;
  const b = new ProgramBuilder(D, cfg.contextLength, dims, opts);
  const block = (i: number) => `transformer.h.${i}`;
  const site = (i: number) => `h.${i}.mlp`;

  // --- Parameters, in the tfjs model's registration order.
  const mambas = Array.from({ length: n }, (_, i) =>
    mambaShape(`${block(i)}.mamba`, D, cfg.mambaExpand, cfg.stateSize, cfg.mambaConv),
  );
  for (let i = 0; i < n; i++) {
    b.layerNormParams(`${block(i)}.norm_mamba`);
    mambaParams(b, mambas[i]);
    if (cfg.channelMlp) {
      b.layerNormParams(`${block(i)}.ln_2`);
      mlpParams(b, channelMlp(`${block(i)}.mlp_channels`, D));
    }
  }
  b.layerNormParams('transformer.ln_f');
  const timesteps = cfg.timestepEmbedding ? cfg.maxEpLen : 0;
  embeddingParams(b, { timesteps });
  headParams(b);
  b.layout(['embd', ...(cfg.channelMlp ? Array.from({ length: n }, (_, i) => site(i)) : [])], timesteps > 0);

  // --- Forward.
  const emb = embeddingForward(b, { timesteps, dropout: b.dropout('embd', cfg.dropout) });
  const layers: { mamba: Branch; mlp?: Branch }[] = [];
  let x = emb.out;
  for (let i = 0; i < n; i++) {
    const pre = `fwd.layer${i}`;
    const mamba = mambaBranch(b, `${block(i)}.norm_mamba`, 1, mambas[i], x, pre, 'norm_mamba');
    x = mamba.out;
    let mlp: Branch | undefined;
    if (cfg.channelMlp) {
      const name = channelMlp(`${block(i)}.mlp_channels`, D);
      mlp = mlpBranch(b, `${block(i)}.ln_2`, 1, name, x, b.dropout(site(i), cfg.dropout), pre, 'ln_2');
      x = mlp.out;
    }
    layers.push({ mamba, mlp });
  }
  const head = headForward(b, 'transformer.ln_f', x);
  if (!opts.training) return b.program(programKey('dmamba', cfg, dims, opts), head.outputs);

  // --- Backward: G through each block's MLP branch, then its Mamba branch (residuals included).
  const branches = layers.flatMap((la, layer) => [
    { branch: la.mamba, layer, ln: 'norm_mamba' },
    ...(la.mlp ? [{ branch: la.mlp, layer, ln: 'ln_2' }] : []),
  ]);
  embeddingBackward(b, emb, branchesBackward(b, headBackward(b, head), branches));
  return optimizerStep(b, programKey('dmamba', cfg, dims, opts), head.outputs);
}
