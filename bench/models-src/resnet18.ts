// A ResNet-18-shaped network (He et al. 2015, torchvision's layout) with seeded random
// weights: the right shapes and cost for benchmarking, not a trained classifier.

import { attr, OnnxModelBuilder } from '../../packages/server/src/testing/onnx/index.ts';
import { normal, seededRandom } from './seeded-random.ts';

/**
 * Input `input` FP32 [batch, 3, 224, 224] (batch symbolic) → output `logits` FP32
 * [batch, 1000]. conv1 7×7/2 (64) + BatchNormalization + Relu, MaxPool 3×3/2, four stages of
 * two BasicBlocks (64, 128, 256, 512 channels; stages 2–4 start with stride 2 and a 1×1/2
 * downsample conv + BN), GlobalAveragePool, Flatten, Gemm. 11.7 M parameters, ~47 MB.
 *
 * Conv weights are He-initialised (normal, std √(2/fan_in)); BN statistics are mildly random
 * around identity and the second BN of each block is scaled by 0.5, so activations grow
 * slowly along the residual path and the logits stay finite (order 1–100). Same seed, same bytes.
 *
 * Measured 2026-11-22 on the 2-core bench machine (onnxruntime-node 1.30, idle machine):
 * intraOpNumThreads 1: batch 1 ≈ 19 ms (~52 images/s), batch 8 ≈ 145 ms (~55 images/s);
 * intraOpNumThreads 2: batch 1 ≈ 10.4 ms (~96 images/s), batch 8 ≈ 79 ms (~100 images/s).
 */
export function resnet18Model(seed = 18): Uint8Array {
  const uniform = seededRandom(seed);
  const gauss = normal(uniform);
  const b = new OnnxModelBuilder({ opset: 17, producerName: 'sibyl-bench', graphName: 'resnet18' });
  b.input('input', 'FP32', ['batch', 3, 224, 224]);

  const conv = (x: string, name: string, cin: number, cout: number, k: number, stride: number): string => {
    const w = new Float32Array(cout * cin * k * k);
    const std = Math.sqrt(2 / (cin * k * k));
    for (let i = 0; i < w.length; i++) w[i] = gauss() * std;
    b.initializer(`${name}.weight`, 'FP32', [cout, cin, k, k], w);
    const pad = (k - 1) >> 1;
    b.node('Conv', [x, `${name}.weight`], [name], {
      kernel_shape: [k, k],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    });
    return name;
  };

  const bn = (x: string, name: string, channels: number, gamma = 1): string => {
    const scale = new Float32Array(channels);
    const bias = new Float32Array(channels);
    const mean = new Float32Array(channels);
    const variance = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      scale[c] = gamma * (0.9 + 0.2 * uniform());
      bias[c] = 0.05 * gauss();
      mean[c] = 0.05 * gauss();
      variance[c] = 0.8 + 0.4 * uniform();
    }
    const params = { scale, bias, mean, var: variance };
    for (const [p, values] of Object.entries(params)) b.initializer(`${name}.${p}`, 'FP32', [channels], values);
    b.node('BatchNormalization', [x, ...Object.keys(params).map((p) => `${name}.${p}`)], [name], {
      epsilon: attr.float(1e-5),
    });
    return name;
  };

  const relu = (x: string): string => {
    b.node('Relu', [x], [`${x}.relu`]);
    return `${x}.relu`;
  };

  const basicBlock = (x: string, name: string, cin: number, cout: number, stride: number): string => {
    let y = relu(bn(conv(x, `${name}.conv1`, cin, cout, 3, stride), `${name}.bn1`, cout));
    y = bn(conv(y, `${name}.conv2`, cout, cout, 3, 1), `${name}.bn2`, cout, 0.5);
    const shortcut =
      stride === 1 && cin === cout
        ? x
        : bn(conv(x, `${name}.downsample.conv`, cin, cout, 1, stride), `${name}.downsample.bn`, cout);
    b.node('Add', [y, shortcut], [`${name}.add`]);
    return relu(`${name}.add`);
  };

  let x = relu(bn(conv('input', 'conv1', 3, 64, 7, 2), 'bn1', 64));
  b.node('MaxPool', [x], ['maxpool'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  x = 'maxpool';
  let channels = 64;
  for (const [stage, width] of [64, 128, 256, 512].entries()) {
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      x = basicBlock(x, `layer${stage + 1}.${block}`, channels, width, stride);
      channels = width;
    }
  }
  b.node('GlobalAveragePool', [x], ['avgpool']);
  b.node('Flatten', ['avgpool'], ['flatten'], { axis: 1 });
  const fcWeight = new Float32Array(1000 * 512);
  const fcStd = Math.sqrt(1 / 512);
  for (let i = 0; i < fcWeight.length; i++) fcWeight[i] = gauss() * fcStd;
  b.initializer('fc.weight', 'FP32', [1000, 512], fcWeight);
  b.initializer('fc.bias', 'FP32', [1000], new Float32Array(1000));
  b.node('Gemm', ['flatten', 'fc.weight', 'fc.bias'], ['logits'], { transB: 1 });
  return b.output('logits', 'FP32', ['batch', 1000]).build();
}
