/**
 * The one place that builds models: typed configs with frozen defaults per model, one resolver that
 * validates every field (unknown keys name the nearest valid key; contradictory options are rejected),
 * and `createModel(name, config, dims, seed)`. Env dimensions are arguments, never config fields.
 */
import { MODEL_NAMES, type ModelName } from '../config/names';
import { useLeanWasmKernels } from '../ops/lean-wasm';
import { check, checkKnownKeys, nearest } from '../util/check';
import { Rng, deriveSeed } from '../util/rng';
import { DC_DEFAULTS, DcConfig, DecisionConvFormer } from './decision-convformer';
import { DMAMBA_DEFAULTS, DecisionMamba, DmambaConfig } from './decision-mamba';
import { DMM_DEFAULTS, DecisionMetaMamba, DmmConfig } from './decision-metamamba';
import { DT_DEFAULTS, DecisionTransformer, DtConfig } from './decision-transformer';
import { MAMBA2_HEAD_DIM } from './mamba2-block';
import { EnvDims, SequenceModel } from './sequence-model';

export interface ModelConfigs {
  dmm: DmmConfig;
  dmamba: DmambaConfig;
  dt: DtConfig;
  dc: DcConfig;
}
export type AnyModelConfig = ModelConfigs[ModelName];

export const MODEL_DEFAULTS: Readonly<{ [N in ModelName]: Readonly<ModelConfigs[N]> }> = Object.freeze({
  dmm: DMM_DEFAULTS,
  dmamba: DMAMBA_DEFAULTS,
  dt: DT_DEFAULTS,
  dc: DC_DEFAULTS,
});

type Rule = { int: [number, number] } | { real: [number, number] } | { oneOf: readonly string[] } | { bool: true };

const COMMON: Record<string, Rule> = {
  hiddenSize: { int: [1, 4096] },
  nLayer: { int: [1, 64] },
  contextLength: { int: [1, 1000] },
  dropout: { real: [0, 0.999] },
  maxEpLen: { int: [1, 1e6] },
};

const RULES: { [N in ModelName]: Record<keyof ModelConfigs[N], Rule> } = {
  dmm: {
    ...(COMMON as Record<'hiddenSize' | 'nLayer' | 'contextLength' | 'dropout' | 'maxEpLen', Rule>),
    windowSize: { int: [1, 64] },
    dsmMode: { oneOf: ['per-layer', 'shared-frozen'] },
    globalMixer: { oneOf: ['mamba1', 'mamba2'] },
    dtInit: { oneOf: ['official', 'mamba-default'] },
    tokenMixer: { oneOf: ['dense', 'dc-conv', 'causal-conv', 'none', 'attention'] },
    timestepEmbedding: { bool: true },
    shareLayerNorm: { bool: true },
    channelMlp: { bool: true },
    mambaConv: { int: [0, 16] },
    mambaExpand: { int: [1, 8] },
    stateSize: { int: [1, 256] },
  },
  dmamba: {
    ...(COMMON as Record<'hiddenSize' | 'nLayer' | 'contextLength' | 'dropout' | 'maxEpLen', Rule>),
    dtInit: { oneOf: ['official', 'mamba-default'] },
    channelMlp: { bool: true },
    timestepEmbedding: { bool: true },
    mambaExpand: { int: [1, 8] },
    mambaConv: { int: [0, 16] },
    stateSize: { int: [1, 256] },
  },
  dt: {
    ...(COMMON as Record<'hiddenSize' | 'nLayer' | 'contextLength' | 'dropout' | 'maxEpLen', Rule>),
    nHead: { int: [1, 64] },
  },
  dc: {
    ...(COMMON as Record<'hiddenSize' | 'nLayer' | 'contextLength' | 'dropout' | 'maxEpLen', Rule>),
    windowSize: { int: [1, 64] },
  },
};

function checkRule(fn: string, key: string, value: unknown, rule: Rule): void {
  if ('int' in rule) {
    const [lo, hi] = rule.int;
    check(
      Number.isInteger(value) && (value as number) >= lo && (value as number) <= hi,
      () => `Error in ${fn}: ${key} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(value)}.`,
    );
  } else if ('real' in rule) {
    const [lo, hi] = rule.real;
    check(
      typeof value === 'number' && Number.isFinite(value) && value >= lo && value <= hi,
      () => `Error in ${fn}: ${key} must be a number in [${lo}, ${hi}], got ${JSON.stringify(value)}.`,
    );
  } else if ('oneOf' in rule) {
    check(
      typeof value === 'string' && rule.oneOf.includes(value),
      () =>
        `Error in ${fn}: ${key} must be one of ${rule.oneOf.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(value)}${typeof value === 'string' ? ` (did you mean '${nearest(value, rule.oneOf)}'?)` : ''}.`,
    );
  } else {
    check(
      typeof value === 'boolean',
      () => `Error in ${fn}: ${key} must be true or false, got ${JSON.stringify(value)}.`,
    );
  }
}

/** Options that cannot be combined (checked on the merged config; `given` = keys the caller set). */
function checkContradictions(fn: string, name: ModelName, cfg: Record<string, unknown>, given: Set<string>): void {
  const d = cfg.hiddenSize as number;
  if (name === 'dmm') {
    check(
      !(cfg.dsmMode === 'shared-frozen' && cfg.tokenMixer !== 'dense'),
      () =>
        `Error in ${fn}: dsmMode 'shared-frozen' needs tokenMixer 'dense', got tokenMixer '${cfg.tokenMixer}'. Drop dsmMode or use tokenMixer 'dense'.`,
    );
    check(
      !(given.has('windowSize') && (cfg.tokenMixer === 'none' || cfg.tokenMixer === 'attention')),
      () =>
        `Error in ${fn}: windowSize has no effect with tokenMixer '${cfg.tokenMixer}', got windowSize ${cfg.windowSize}. Drop one of them.`,
    );
    if (cfg.globalMixer === 'mamba2') {
      check(
        d % MAMBA2_HEAD_DIM === 0,
        () =>
          `Error in ${fn}: hiddenSize must be a multiple of ${MAMBA2_HEAD_DIM} for globalMixer 'mamba2' (head dim 16), got ${d}.`,
      );
      for (const key of ['mambaConv', 'mambaExpand', 'stateSize', 'dtInit']) {
        check(
          !given.has(key),
          () =>
            `Error in ${fn}: ${key} applies to globalMixer 'mamba1' only, got ${key} with globalMixer 'mamba2'. Drop ${key}.`,
        );
      }
    }
  }
  if (name === 'dt') {
    check(
      d % (cfg.nHead as number) === 0,
      () => `Error in ${fn}: hiddenSize must be divisible by nHead, got hiddenSize ${d} and nHead ${cfg.nHead}.`,
    );
    check(
      3 * (cfg.contextLength as number) <= 1024,
      () =>
        `Error in ${fn}: contextLength must be at most 341 (3K ≤ GPT-2 n_positions 1024), got ${cfg.contextLength}.`,
    );
  }
}

/** Merges `partial` over the model's DEFAULTS, validates every field and returns a frozen config. */
export function resolveModelConfig<N extends ModelName>(
  name: N,
  partial: Partial<ModelConfigs[N]> = {},
): Readonly<ModelConfigs[N]> {
  const fn = 'resolveModelConfig';
  check(
    (MODEL_NAMES as readonly string[]).includes(name),
    () =>
      `Error in ${fn}: model must be one of ${MODEL_NAMES.join(', ')}, got '${name}' (did you mean '${nearest(String(name), MODEL_NAMES)}'?).`,
  );
  check(
    partial !== null && typeof partial === 'object' && !Array.isArray(partial),
    () => `Error in ${fn}: config must be an object, got ${JSON.stringify(partial)}.`,
  );
  const rules = RULES[name] as Record<string, Rule>;
  checkKnownKeys(`${fn}('${name}')`, partial, Object.keys(rules));
  const given = new Set(Object.keys(partial).filter((k) => (partial as Record<string, unknown>)[k] !== undefined));
  const merged: Record<string, unknown> = { ...MODEL_DEFAULTS[name] };
  for (const k of given) merged[k] = (partial as Record<string, unknown>)[k];
  for (const [key, rule] of Object.entries(rules)) checkRule(`${fn}('${name}')`, key, merged[key], rule);
  checkContradictions(`${fn}('${name}')`, name, merged, given);
  return Object.freeze(merged) as unknown as Readonly<ModelConfigs[N]>;
}

export interface CreatedModel<N extends ModelName> extends SequenceModel {
  readonly name: N;
  readonly config: Readonly<ModelConfigs[N]>;
}

/**
 * Builds a model with weights drawn from `seed` (through `deriveSeed(seed, 'init', name)`), so the
 * same seed gives the same weights on every backend.
 */
export function createModel<N extends ModelName>(
  name: N,
  config: Partial<ModelConfigs[N]>,
  dims: EnvDims,
  seed: number,
): CreatedModel<N> {
  const cfg = resolveModelConfig(name, config);
  useLeanWasmKernels(); // fewer full copies on wasm (src/ops/lean-wasm.ts)
  check(
    Number.isInteger(dims?.stateDim) && dims.stateDim > 0 && Number.isInteger(dims?.actDim) && dims.actDim > 0,
    () => `Error in createModel: dims must be { stateDim, actDim } positive integers, got ${JSON.stringify(dims)}.`,
  );
  check(Number.isInteger(seed), () => `Error in createModel: seed must be an integer, got ${seed}.`);
  const rng = new Rng(deriveSeed(seed, 'init', name));
  const d = Object.freeze({ stateDim: dims.stateDim, actDim: dims.actDim });
  switch (name) {
    case 'dmm':
      return new DecisionMetaMamba(cfg as unknown as DmmConfig, d, rng) as unknown as CreatedModel<N>;
    case 'dmamba':
      return new DecisionMamba(cfg as unknown as DmambaConfig, d, rng) as unknown as CreatedModel<N>;
    case 'dt':
      return new DecisionTransformer(cfg as unknown as DtConfig, d, rng) as unknown as CreatedModel<N>;
    default:
      return new DecisionConvFormer(cfg as unknown as DcConfig, d, rng) as unknown as CreatedModel<N>;
  }
}
