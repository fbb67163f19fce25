// The trained TF.js models that the nsfwjs npm package ships inside itself (dist/models/:
// model.min.js = the model.json object, group1-shardKofN.min.js = one base64 weight file
// each), loaded from memory with tfjs-layers / tfjs-converter: nothing is fetched.
// Used by test/tfjs/nsfwjs.test.ts and bench/tfjs.ts.
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';

export type NsfwModelName = 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3';

export interface NsfwModelInfo {
  name: NsfwModelName;
  label: string;
  /** Input is [1, size, size, 3], pixels / 255 (as nsfwjs's infer()). */
  size: number;
}

export const NSFW_MODELS: readonly NsfwModelInfo[] = [
  { name: 'mobilenet_v2', label: 'nsfwjs MobileNetV2 (layers model)', size: 224 },
  { name: 'mobilenet_v2_mid', label: 'nsfwjs MobileNetV2Mid (graph model)', size: 224 },
  { name: 'inception_v3', label: 'nsfwjs InceptionV3 (layers model)', size: 299 },
];

export interface Predictor {
  predict(x: tf.Tensor): tf.Tensor;
  dispose(): void;
}

interface ModelJson {
  format?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function modelsDir(): string {
  // nsfwjs's "exports" hides its files; find the package from its main entry (dist/cjs/index.js).
  return path.resolve(path.dirname(require.resolve('nsfwjs')), '..', 'models');
}

/** model.json and the concatenated weight bytes of one shipped model. */
export function nsfwArtifacts(name: NsfwModelName): tf.io.ModelArtifacts {
  const dir = path.join(modelsDir(), name);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const json = require(path.join(dir, 'model.min.js')) as ModelJson;
  const parts: Buffer[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const base64 = require(path.join(dir, `${p}.min.js`)) as string;  // the module is the base64 text
      parts.push(Buffer.from(base64, 'base64'));
    }
    weightSpecs.push(...group.weights);
  }
  const all = Buffer.concat(parts);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { modelTopology: json.modelTopology, format: json.format, weightSpecs, weightData };
}

/** Loads one model on the current tf backend (call tf.setBackend first: weights are placed there). */
export async function loadNsfwModel(name: NsfwModelName): Promise<Predictor> {
  const artifacts = nsfwArtifacts(name);
  const handler = tf.io.fromMemory(artifacts);
  if (artifacts.format === 'graph-model') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const converter = require('@tensorflow/tfjs-converter') as typeof import('@tensorflow/tfjs-converter');
    const m = await converter.loadGraphModel(handler);
    return { predict: (x) => m.predict(x) as tf.Tensor, dispose: () => m.dispose() };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const layers = require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
  const m = await layers.loadLayersModel(handler);
  return { predict: (x) => m.predict(x) as tf.Tensor, dispose: () => m.dispose() };
}

/** A fixed, image-like input: smooth colour gradients plus a little deterministic texture, in [0, 1]. */
export function fixedImage(size: number): Float32Array {
  const a = new Float32Array(size * size * 3);
  let s = 12345;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const noise = ((s >>> 16) & 0xff) / 255;
        const base = 0.5 + 0.4 * Math.sin((x * (c + 1)) / 23 + (y * (3 - c)) / 31);
        a[(y * size + x) * 3 + c] = Math.min(1, Math.max(0, 0.85 * base + 0.15 * noise));
      }
    }
  }
  return a;
}
