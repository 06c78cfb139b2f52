import { Command, CommanderError } from 'commander';
import { isSkywatchError } from '../core/errors.js';
import { createContext } from './context.js';
import { registerDataCommands } from './commands/data.js';
import { registerTrainCommand } from './commands/train.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerModelCommands } from './commands/model.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerRoleCommands } from './commands/roles.js';
import { registerTrainerCommand } from './commands/trainer.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerRunsCommands } from './commands/runs.js';
import { registerDriftCommand } from './commands/drift.js';

const program = new Command('skywatch')
  .description('Edge-streaming drone vs bird detection: cameras, queue, ONNX workers, alerts, trainer and model registry.')
  .option('-c, --config <file>', 'JSON config file (also SKYWATCH_CONFIG)')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
  .showHelpAfterError()
  .exitOverride();

const ctx = createContext(program);
registerDataCommands(program, ctx);
registerTrainCommand(program, ctx);
registerEvalCommand(program, ctx);
registerModelCommands(program, ctx);
registerPredictCommand(program, ctx);
registerRoleCommands(program, ctx);
registerTrainerCommand(program, ctx);
registerDoctorCommand(program, ctx);
registerRunsCommands(program, ctx);
registerDriftCommand(program, ctx);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (isSkywatchError(err)) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(err.code === 'TRAINING_ABORTED' ? 130 : 1);
  }
  process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}
