// The compute ceiling: onnxruntime-node in process, no HTTP, no queue, at each batch size and
// thread setting; prints rows per second of each, and the best. What Sibyl can at most approach.
//
//   npx tsx bench/compute-ceiling.ts <model.onnx> <inputName> <rowShape, e.g. 32 or 3,224,224> [seconds per setting=3]
import * as ort from 'onnxruntime-node';

const [file, inputName, rowShapeText, secondsText] = process.argv.slice(2);
if (file === undefined || inputName === undefined || rowShapeText === undefined) {
  console.error('usage: compute-ceiling.ts <model.onnx> <inputName> <rowShape> [seconds]');
  process.exit(2);
}
const rowShape = rowShapeText.split(',').map(Number);
const rowSize = rowShape.reduce((a, b) => a * b, 1);
const seconds = Number(secondsText ?? 3);
const batchSizes = rowSize > 10_000 ? [1, 2, 4, 8, 16] : [1, 8, 32, 64, 128, 256];

const results: { threads: number; batch: number; rowsPerSecond: number; msPerRun: number }[] = [];
for (const threads of [1, 2]) {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  for (const batch of batchSizes) {
    const data = Float32Array.from({ length: batch * rowSize }, (_, i) => ((i * 7919) % 1000) / 1000);
    const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, ...rowShape]) };
    for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      await session.run(feeds);
      runs++;
    }
    const ms = performance.now() - start;
    results.push({ threads, batch, rowsPerSecond: (runs * batch * 1000) / ms, msPerRun: ms / runs });
  }
  await session.release();
}
const best = results.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
console.log(JSON.stringify({ results: results.map((r) => ({ ...r, rowsPerSecond: Math.round(r.rowsPerSecond), msPerRun: Number(r.msPerRun.toFixed(3)) })), best: { ...best, rowsPerSecond: Math.round(best.rowsPerSecond) } }));
