/**
 * The models the fused engine builds programs for, and the one place that picks a model's program builder: DMM
 * (models/dmm.ts), Decision Mamba (models/decision-mamba.ts), Decision ConvFormer (models/decision-convformer.ts) and
 * Decision Transformer (models/decision-transformer.ts). A config that the engine does not cover says why in one line
 * (`engineModelGap`), and the trainer keeps it on tfjs.
 */
import type { DmmConfig } from '../../models/decision-metamamba';
import type { DmambaConfig } from '../../models/decision-mamba';
import type { DcConfig } from '../../models/decision-convformer';
import type { DtConfig } from '../../models/decision-transformer';
import type { EnvDims } from '../../models/sequence-model';
import type { Program } from '../program';
import type { ProgramOptions } from './builder';
import { buildDcProgram } from './decision-convformer';
import { buildDtProgram, dtEngineGap } from './decision-transformer';
import { buildDmambaProgram, dmambaEngineGap } from './decision-mamba';
import { buildDmmProgram, dmmEngineGap } from './dmm';

export type { ProgramOptions };

/** A model as the engine sees it: its registry name and its config. */
export type EngineModel =
  | { name: 'dmm'; config: Readonly<DmmConfig> }
  | { name: 'dmamba'; config: Readonly<DmambaConfig> }
  | { name: 'dc'; config: Readonly<DcConfig> }
  | { name: 'dt'; config: Readonly<DtConfig> };

/** Either a model or a bare DMM config (what the DMM-only callers pass). */
export type EngineModelLike = EngineModel | Readonly<DmmConfig>;

export function asEngineModel(m: EngineModelLike): EngineModel {
  return 'name' in m && 'config' in m ? (m as EngineModel) : { name: 'dmm', config: m as Readonly<DmmConfig> };
}

/** Why the engine cannot train model `name` with `config`, or null when it can. */
export function engineModelGap(name: string, config: unknown): string | null {
  if (name === 'dmm') return dmmEngineGap(config as DmmConfig);
  if (name === 'dmamba') return dmambaEngineGap(config as DmambaConfig);
  if (name === 'dc') return null;
  if (name === 'dt') return dtEngineGap(config as DtConfig);
  return `model '${name}' (the engine covers dmm, dmamba, dc and dt)`;
}

/**
 * Why the Trainer's default stays on tfjs on the CPU for model `name` (null: it takes the engine). None today:
 * with the blocked SIMD product, SIMD epilogues, attention, LayerNorm and AdamW, every model's fused CPU step
 * beats tfjs-wasm (bench/engine.ts, one core of the 2-core machine under load 5–8, both paths in one run,
 * bench/results/engine-wasm.json; wall-time ratio, CPU-time ratio): batch 64 at the hopper sizes DT 2.5×, 2.0×;
 * DC 2.1×, 2.1×; DMM 1.4×, 1.8×; Decision Mamba 1.2×, 1.4×; batch 32 at D 32 DT 3.5×, 2.0×; DC 4.3×, 3.4×;
 * DMM 3.2×, 2.4×; Decision Mamba 1.4×, 1.2×. The hook stays for a model whose CPU path falls behind again.
 */
export function engineCpuDefaultGap(name: string): string | null {
  void name;
  return null;
}

export function buildProgram(m: EngineModelLike, dims: EnvDims, opts: ProgramOptions): Program {
  const model = asEngineModel(m);
  switch (model.name) {
    case 'dmm':
      return buildDmmProgram(model.config, dims, opts);
    case 'dmamba':
      return buildDmambaProgram(model.config, dims, opts);
    case 'dc':
      return buildDcProgram(model.config, dims, opts);
    case 'dt':
      return buildDtProgram(model.config, dims, opts);
  }
}
