/** `dmm eval --checkpoint PATH`: rebuilds the model of a checkpoint and runs the docs/spec.md §10 evaluation on it. */
import { initBackend } from '../../backend';
import { resolveEvalConfig, type EvalConfig } from '../../config/eval';
import type { EvalPadding } from '../../config/names';
import { evalEnvOf, type RunSpec } from '../../config/run-spec';
import { evaluate } from '../../eval/rollout';
import { restoreRun } from '../../train/checkpoint';
import { defaultDeps } from '../../train/deps';
import { stableStringify, writeFileAtomic } from '../../util/atomic';
import { KitError } from '../../util/check';
import { commandError, helpText, parseCommand, parseIntList, parseInteger, type CommandSpec } from '../args';
import type { CliCommand } from '../command';

export const EVAL_SPEC = {
  name: 'eval',
  summary:
    'Evaluates a checkpoint with return-conditioned rollouts (docs/spec.md §10): per target, return mean ± std, length and normalised score.',
  usage: 'dmm eval --checkpoint PATH [--episodes N] [--targets 3600,7200] [--eval-padding official|train-consistent]',
  flags: {
    checkpoint: {
      type: 'string',
      value: 'PATH',
      help: 'an iter-NNNN folder, or a run’s checkpoints folder (its latest iteration)',
    },
    episodes: { type: 'string', value: 'N', help: 'episodes per target', default: 'the run’s' },
    targets: { type: 'string', value: 'LIST', help: 'RTG targets (raw return units)', default: 'the run’s' },
    'eval-padding': { type: 'string', value: 'MODE', help: 'official | train-consistent', default: 'the run’s' },
    'max-steps': { type: 'string', value: 'N', help: 'episode length cap', default: 'the run’s (1000 except smoke)' },
    seed: { type: 'string', value: 'N', help: 'seed for the environment resets', default: 'the run’s seed' },
    out: { type: 'string', value: 'FILE', help: 'also write the results as JSON' },
  },
} satisfies CommandSpec;

export async function evalMain(argv: string[]): Promise<number> {
  const { help, flags: v } = parseCommand(EVAL_SPEC, argv);
  if (help) {
    console.log(helpText(EVAL_SPEC));
    return 0;
  }
  if (v.checkpoint === undefined) throw commandError('eval', '--checkpoint must name a checkpoint folder, got none');
  const backend = await initBackend();
  const { checkpoint: ckpt, run, model, stateMean, stateStd } = await restoreRun(v.checkpoint);
  const dir = ckpt.dir;
  const stored = run.config.eval as unknown as EvalConfig;
  const config = resolveEvalConfig({
    ...stored,
    targets: v.targets !== undefined ? parseIntList('eval', 'targets', v.targets) : stored.targets,
    episodesPerTarget: parseInteger('eval', 'episodes', v.episodes) ?? stored.episodesPerTarget,
    maxEpisodeSteps: parseInteger('eval', 'max-steps', v['max-steps']) ?? stored.maxEpisodeSteps,
    evalPadding: (v['eval-padding'] ?? stored.evalPadding) as EvalPadding,
  });
  const seed = parseInteger('eval', 'seed', v.seed, 0) ?? run.spec.seed;
  const env = evalEnvOf(run.spec as RunSpec);
  const t0 = Date.now();
  const results = await evaluate(model, {
    env,
    stateMean,
    stateStd,
    config,
    seed,
    createVecEnv: defaultDeps().createVecEnv,
  });
  const seconds = (Date.now() - t0) / 1000;
  model.dispose();
  console.log(
    `${run.spec.model} ${env} checkpoint ${dir} (step ${ckpt.state.step}), ${config.episodesPerTarget} episodes per target, padding ${config.evalPadding}, ${backend}, ${seconds.toFixed(1)} s`,
  );
  console.log('| target | return (mean ± std) | length | normalised score |\n|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.target} | ${r.returnMean.toFixed(1)} ± ${r.returnStd.toFixed(1)} | ${r.lengthMean.toFixed(1)} | ${r.normalizedScore.toFixed(1)} |`,
    );
  if (v.out) {
    try {
      writeFileAtomic(
        v.out,
        stableStringify({ checkpoint: dir, step: ckpt.state.step, seed, backend, config, seconds, results }, 2) + '\n',
      );
    } catch (err) {
      throw new KitError(
        `Error in dmm eval: --out must be a file that can be written, got ${v.out} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). The table above is complete; pass another --out to keep it as JSON.`,
      );
    }
  }
  return 0;
}

export const command: CliCommand = {
  name: 'eval',
  summary: 'evaluate a checkpoint (docs/spec.md §10 rollouts, normalised scores)',
  run: evalMain,
};
