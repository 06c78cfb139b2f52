import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolveLocal } from '../../core/config.js';
import { SkywatchError } from '../../core/errors.js';
import path from 'node:path';
import { trainingDataFolder } from '../../trainer/data/split-folders.js';
import { createProgress } from '../../trainer/fit/progress.js';
import { trainTrackModel } from '../../trainer/track/train-track-model.js';
import { INT8_CALIBRATION_CROPS } from '../../trainer/track/train-track.js';
import { runTraining, TRAINING_DEFAULTS, type TrainMode } from '../../trainer/train.js';
import { printResult, type CliContext } from '../context.js';
import { readFile } from 'node:fs/promises';
import { parseSweepSpec } from '../../trainer/sweep/sweep-spec.js';
import { runSweep, type SweepResult } from '../../trainer/sweep/run-sweep.js';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

function decimal(min: number, max: number, exclusiveMin = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n > max || (exclusiveMin ? n <= min : n < min)) throw new InvalidArgumentError(`expected a number ${exclusiveMin ? 'above' : 'from'} ${min}${max < Number.MAX_VALUE ? ` to ${max}` : ''}`);
    return n;
  };
}

interface TrainFlags {
  data?: string;
  kind: 'frame' | 'track';
  registry?: string;
  mode: TrainMode;
  backbone?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  patience?: number;
  seed: number;
  imageSize: number;
  augment: boolean;
  publish: boolean;
  force: boolean;
  margin?: number;
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  json: boolean;
  profileSteps?: number;
  sweep?: string;
  tta?: 'none' | 'hflip';
  photos?: string;
  refit: boolean;
  int8Crops: boolean;
}

export function registerTrainCommand(program: Command, ctx: CliContext): void {
  program
    .command('train')
    .summary('train a drone/bird classifier, evaluate it on the test split, export ONNX, optionally publish')
    .description(
      [
        'Trains a frame classifier on a folder (or gs:// prefix) with one subfolder per label, evaluates the exported ONNX model on the ' +
          "data set's test split, and writes model.onnx, manifest.json, metrics.json, metrics.jsonl and report.html into <stateDir>/runs/<version>/.",
        "With --publish it goes to the registry as champion/challenger: the new model becomes latest only if its test accuracy is no more than " +
          "--margin below the current model's on the same split (--force overrides); otherwise it is kept as a candidate version.",
        'Modes: "transfer" (default) trains a small head on embeddings of a pretrained ONNX backbone; "scratch" trains a compact CNN in TensorFlow.js at --image-size.',
        "Splits come from the data set's splits file; when it has none they are generated from --seed, and the log says so.",
        'Ctrl-C stops after the current step and publishes nothing (exit code 130); a second Ctrl-C exits at once.',
      ].join('\n\n'),
    )
    .option('--data <dir|gs://...>', 'data set: a folder with one subfolder per label, or a gs:// prefix (default: config data); with --kind track, a track data set from `skywatch data from-videos`')
    .addOption(new Option('--kind <kind>', 'frame: one image classifier (photographs); track: crop classifier + track model for cameras').choices(['frame', 'track']).default('frame'))
    .option('--registry <dir|gs://...>', 'model registry to publish to (default: config registry)')
    .addOption(new Option('--mode <mode>', 'transfer: head on a pretrained backbone; scratch: compact CNN').choices(['transfer', 'scratch']).default('transfer'))
    .option('--backbone <file>', 'ONNX backbone for transfer mode (default: config trainer.backbone)')
    .option('--epochs <n>', `maximum epochs (default: transfer ${TRAINING_DEFAULTS.transfer.epochs}, scratch ${TRAINING_DEFAULTS.scratch.epochs})`, integer(1, 10_000))
    .option('--batch-size <n>', `examples per step (default: ${TRAINING_DEFAULTS.transfer.batchSize})`, integer(1, 4096))
    .option('--lr <x>', `Adam learning rate (default: transfer ${TRAINING_DEFAULTS.transfer.learningRate}, scratch ${TRAINING_DEFAULTS.scratch.learningRate})`, decimal(0, 10, true))
    .option('--patience <n>', 'epochs without a better validation loss before stopping early; 0 = never', integer(0, 10_000))
    .option('--seed <n>', 'seed for splits, initial weights, shuffling, augmentation and dropout', integer(0, 2 ** 31 - 1), 1)
    .option('--image-size <n>', 'input side in pixels for scratch mode', integer(16, 512), TRAINING_DEFAULTS.scratch.imageSize)
    .option('--no-augment', 'train on the images as they are (default: augment with flips, crop/zoom and brightness)')
    .option('--publish', 'publish to the registry when training succeeds', false)
    .option('--force', 'with --publish: make it latest even if it does not beat the current model', false)
    .option('--margin <x>', 'with --publish: how much lower its test accuracy may be than the current model\'s and still become latest (default: the registry\'s, 0.01)', decimal(0, 1))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
    .option('--json', 'print the result as one JSON document on stdout', false)
    .option('--sweep <file.json>', 'grid or random search over training settings (see docs/MLOPS.md): every trial recorded, only the best (lowest validation loss) published, through champion/challenger, with --publish')
    .addOption(new Option('--tta <kind>', 'transfer mode: test-time augmentation baked into the exported model (hflip: average with the mirror image)').choices(['none', 'hflip']))
    .option('--photos <dir>', 'with --kind track: labelled photographs (one folder per label, or a data set of split folders) for a photo model that answers single images and for the crop model (those of train/ when split: the other splits are left out), as `skywatch start` trains its default')
    .option('--int8-crops', `with --kind track: the crop model's backbone runs 8-bit convolutions, calibrated on ${INT8_CALIBRATION_CROPS} crops of the clips: about three quarters of its CPU a crop, for machines short of CPU, at a small cost in detection (docs/DETECTION.md)`, false)
    .option('--no-refit', 'with --kind track: ship the model trained on the training split itself (default: after the held-out evaluation, the models that ship are trained again on every clip)')
    .option('--profile-steps <n>', 'write profile.json into the run folder (and beside the run record): seconds per phase (scan, decode, embed, step, export, evaluate) and the times of the first N training steps (frame and track)', integer(0, 1_000_000))
    .addHelpText('after', '\nExamples:\n  skywatch train --data ../shared/data/images --registry .state/registry --publish\n  skywatch train --data gs://bucket/datasets/birds --registry gs://bucket/models --mode scratch --epochs 20 --json\n')
    .action(async (flags: TrainFlags) => {
      const config = ctx.config();
      const logger = ctx.logger('train');
      if (flags.force && !flags.publish) throw new SkywatchError('BAD_REQUEST', '--force only makes sense with --publish');
      const controller = new AbortController();
      const onSigint = (): void => {
        if (controller.signal.aborted) {
          process.stderr.write('\nsecond Ctrl-C: exiting now\n');
          process.exit(130);
        }
        process.stderr.write('\nstopping after the current step (Ctrl-C again to exit now)\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        if (flags.kind === 'track') {
          if (flags.sweep) throw new SkywatchError('BAD_REQUEST', '--sweep trains frame models only (not --kind track)');
          const result = await trainTrackModel({
            tracks: resolveLocal(flags.data ?? path.join(config.stateDir, 'datasets', 'tracks')),
            registry: resolveLocal(flags.registry ?? config.registry),
            stateDir: config.stateDir,
            backbone: resolveLocal(flags.backbone ?? config.trainer.backbone),
            seed: flags.seed,
            publish: flags.publish,
            force: flags.force,
            margin: flags.margin,
            backend: flags.backend,
            profileSteps: flags.profileSteps,
            photos: flags.photos ? resolveLocal(flags.photos) : undefined,
            refit: flags.refit,
            ...(flags.int8Crops ? { settings: { quantiseCalibration: INT8_CALIBRATION_CROPS } } : {}),
            gcs: { apiEndpoint: config.gcs.apiEndpoint, projectId: config.gcs.projectId },
            logger,
            signal: controller.signal,
          });
          printResult(flags.json, { ...result, outcomes: undefined }, () => [
            `version ${result.version} (track)`,
            `test clips: track accuracy ${result.metrics?.accuracy.toFixed(4)}; clips alerted ${Object.entries(result.detection.alertedShare).map(([l, v]) => `${l} ${(v * 100).toFixed(0)}%`).join(', ')}`,
            `run folder ${result.runDir}`,
            ...(result.decision ? [`published: ${result.decision.promoted ? 'promoted to latest' : 'kept as a candidate'} (${result.decision.reason})`] : []),
          ].join('\n'));
          return;
        }
        if (flags.photos || !flags.refit || flags.int8Crops) throw new SkywatchError('BAD_REQUEST', `${flags.photos ? '--photos' : flags.int8Crops ? '--int8-crops' : '--no-refit'} applies to --kind track only`);
        const { folder, setAside } = trainingDataFolder(resolveLocal(flags.data ?? config.data));
        if (setAside.length) logger.warn({ data: folder, setAside }, `the data set is split into folders: training on ${folder} (its splits are made there); ${setAside.join(', ')} not used`);
        const base = {
          data: folder,
          registry: resolveLocal(flags.registry ?? config.registry),
          stateDir: config.stateDir,
          mode: flags.mode,
          backbone: resolveLocal(flags.backbone ?? config.trainer.backbone),
          epochs: flags.epochs,
          batchSize: flags.batchSize,
          learningRate: flags.lr,
          patience: flags.patience,
          seed: flags.seed,
          imageSize: flags.imageSize,
          augment: flags.augment,
          publish: flags.publish,
          force: flags.force,
          margin: flags.margin,
          backend: flags.backend,
          profileSteps: flags.profileSteps,
          ...(flags.tta ? { tta: flags.tta } : {}),
          gcs: { apiEndpoint: config.gcs.apiEndpoint, projectId: config.gcs.projectId },
          logger,
          progress: createProgress(process.stderr),
          signal: controller.signal,
        };
        if (flags.sweep) {
          const spec = parseSweepSpec(await readFile(flags.sweep, 'utf8').catch(() => {
            throw new SkywatchError('BAD_REQUEST', `cannot read the sweep file ${flags.sweep}`);
          }), flags.sweep);
          const sweep = await runSweep(spec, base, { onTrial: (t, n) => process.stderr.write(`trial ${t.trial}/${n}: ${t.error ? `failed (${t.error.code})` : `val loss ${t.valLoss?.toFixed(4) ?? '–'}, test accuracy ${t.testAccuracy?.toFixed(4) ?? '–'}`} in ${t.seconds.toFixed(0)} s\n`) });
          printResult(flags.json, sweep, () => sweepTable(sweep));
          return;
        }
        const result = await runTraining(base);
        printResult(flags.json, result, () => {
          const m = result.metrics;
          const lines = [
            `version ${result.version} (${flags.mode})`,
            `test accuracy ${m.accuracy.toFixed(4)}, macro F1 ${m.macroF1.toFixed(4)} on ${m.count} images`,
            `run folder ${result.runDir}`,
          ];
          if (result.decision) lines.push(`published: ${result.decision.promoted ? 'promoted to latest' : 'kept as a candidate'} (${result.decision.reason})`);
          return lines.join('\n');
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

function sweepTable(s: SweepResult): string {
  const keys = [...new Set(s.trials.flatMap((t) => Object.keys(t.params)))];
  const lines = [`sweep ${s.id}: ${s.trials.length} trials (${s.method}) in ${(s.seconds / 60).toFixed(1)} min, ranked by ${s.metric}`, ''];
  lines.push(`${'trial'.padEnd(7)}${keys.map((k) => k.padStart(14)).join('')}${'val loss'.padStart(10)}${'test acc'.padStart(10)}  run`);
  for (const t of s.trials) {
    const mark = s.best?.trial === t.trial ? '*' : ' ';
    lines.push(`${`${mark}${t.trial}`.padEnd(7)}${keys.map((k) => String(t.params[k as keyof typeof t.params] ?? '–').slice(0, 12).padStart(14)).join('')}${(t.valLoss?.toFixed(4) ?? '–').padStart(10)}${(t.testAccuracy?.toFixed(4) ?? '–').padStart(10)}  ${t.run ?? t.error?.code ?? ''}`);
  }
  if (s.best) lines.push('', `best: trial ${s.best.trial} (run ${s.best.run})`);
  if (s.decision) lines.push(`published: ${s.decision.promoted ? 'promoted to latest' : 'kept as a candidate'} (${s.decision.reason})`);
  lines.push(`compare: skywatch runs list --sweep ${s.id}`);
  return lines.join('\n');
}
