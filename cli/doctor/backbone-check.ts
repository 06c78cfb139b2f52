import { stat } from 'node:fs/promises';
import type { Config } from '../../core/config.js';
import type { CheckResult } from './check-result.js';

/** Transfer training (the default mode, and what `skywatch start` uses on an empty registry) needs it. */
export async function checkBackbone(config: Config): Promise<CheckResult> {
  const file = config.trainer.backbone;
  const st = await stat(file).catch(() => null);
  if (st?.isFile() && st.size > 0) return { name: 'backbone', level: 'ok', detail: `${file} (${(st.size / 1e6).toFixed(1)} MB)` };
  return { name: 'backbone', level: 'warn', detail: `${file} not found: transfer training cannot run (serving is unaffected)`, fix: 'set SKYWATCH_BACKBONE to the ImageNet ONNX backbone (squeezenet1.0-imagenet-fp16.onnx)' };
}
