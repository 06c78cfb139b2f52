// One ONNX Runtime session on its own thread. onnxruntime-node runs inference synchronously on the
// calling thread, so a session on the main thread would stop the HTTP server (and the decoding of
// the next requests) for the whole of every batch. Plain JavaScript so that a worker started under
// any loader (tsx, vitest, plain node) can read it.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

let session;
try {
  session = await ort.InferenceSession.create(workerData.model, workerData.options);
  parentPort.postMessage({ kind: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });
} catch (err) {
  parentPort.postMessage({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
}

parentPort.on('message', async (msg) => {
  if (msg.kind === 'release') {
    await session?.release();
    parentPort.close();
    return;
  }
  try {
    const out = await session.run({ [msg.inputName]: new ort.Tensor('float32', msg.input, msg.dims) });
    const result = out[msg.outputName];
    const data = result.data;
    // The input goes back too, so the caller can fill it again instead of allocating the next batch.
    parentPort.postMessage({ kind: 'result', id: msg.id, type: result.type, size: result.size, data, input: msg.input }, [data.buffer, msg.input.buffer]);
  } catch (err) {
    parentPort.postMessage({ kind: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
  }
});
