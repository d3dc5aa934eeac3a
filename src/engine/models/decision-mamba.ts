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
import type { Program, Rows } from '../program';
import { ProgramBuilder, type ProgramOptions } from './builder';
import {
  branchBackward,
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
  const { T } = b;
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
  if (!opts.training) return b.program(keyOf(cfg, dims, opts), head.outputs);

  // --- Backward: G through each block's MLP branch, then its Mamba branch (residuals included).
  const dXf = headBackward(b, head);
  const gBuf = [b.act('bwd.stream.0', T * D), b.act('bwd.stream.1', T * D)];
  let gIn: Rows = b.tok(dXf, D);
  let next = 0;
  const fresh = () => b.tok(gBuf[next++ % 2], D); // never the buffer G is read from
  for (let i = n - 1; i >= 0; i--) {
    const la = layers[i];
    const pre = `bwd.layer${i}`;
    if (la.mlp) {
      const g = fresh();
      branchBackward(b, la.mlp, gIn, g, pre, 'ln_2');
      gIn = g;
    }
    const g = fresh();
    branchBackward(b, la.mamba, gIn, g, pre, 'norm_mamba');
    gIn = g;
  }
  embeddingBackward(b, emb, gIn);
  return optimizerStep(b, keyOf(cfg, dims, opts), head.outputs);
}

function keyOf(cfg: Readonly<DmambaConfig>, dims: EnvDims, opts: ProgramOptions): string {
  return `dmamba ${JSON.stringify(cfg)} ${dims.stateDim}/${dims.actDim} B=${opts.batchSize} ${
    opts.training ? 'train' : 'forward'
  } ${opts.target}`;
}
