// Writes test/tfjs/nsfw-expected.json: the probabilities that tfjs-backend-cpu (the
// reference TF.js backend) gives for each nsfwjs model on fixedImage(size). The cpu
// backend takes ~20 s on Inception v3, so the test compares InceptionV3 against this file
// and the MobileNets against the cpu backend live (as well as this file).
//   npx tsc -p . && node dist/test/tfjs/make-nsfw-expected.js
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NSFW_MODELS, fixedImage, loadNsfwModel } from './nsfw-models';

export const EXPECTED_PATH = path.resolve(__dirname, '..', '..', '..', 'test', 'tfjs', 'nsfw-expected.json');

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const out: Record<string, number[]> = {};
  for (const m of NSFW_MODELS) {
    const model = await loadNsfwModel(m.name);
    const x = tf.tensor(fixedImage(m.size), [1, m.size, m.size, 3]);
    const y = model.predict(x);
    out[m.name] = Array.from(await y.data());
    tf.dispose([x, y]);
    model.dispose();
    console.log(m.name, out[m.name].join(', '));
  }
  const doc = {
    note: 'tfjs-backend-cpu 4.22.0 probabilities for fixedImage(size) (test/tfjs/nsfw-models.ts); made by node dist/test/tfjs/make-nsfw-expected.js',
    classes: ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'],
    probabilities: out,
  };
  fs.writeFileSync(EXPECTED_PATH, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`wrote ${EXPECTED_PATH}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
