// Writes the benchmark ResNet-18 into a model repository:
//   npx tsx bench/models-src/build-resnet18.ts [outDir]      (default bench/models, gitignored)
// → <outDir>/resnet18/1/model.onnx. Then loads it in onnxruntime-node and runs one image, so a
// broken model fails here rather than in the benchmark.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { resnet18Model } from './resnet18.ts';

const outDir = process.argv[2] ?? 'bench/models';
const file = join(outDir, 'resnet18', '1', 'model.onnx');

const started = performance.now();
const bytes = resnet18Model();
await mkdir(join(outDir, 'resnet18', '1'), { recursive: true });
await writeFile(file, bytes);
console.log(`wrote ${file}: ${(bytes.length / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
try {
  const image = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i) * 2);
  const { logits } = await session.run({ input: new ort.Tensor('float32', image, [1, 3, 224, 224]) });
  const values = logits!.data as Float32Array;
  if (logits!.dims.join() !== '1,1000' || !values.every(Number.isFinite)) {
    throw new Error(`check run gave logits of shape [${logits!.dims.join(', ')}] with non-finite values`);
  }
  const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  console.log(`checked: one image → logits [1, 1000], finite, max |logit| ${max.toFixed(2)}`);
} finally {
  await session.release();
}
