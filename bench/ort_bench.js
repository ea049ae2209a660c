// SPDX-License-Identifier: ISC
//
// ONNX Runtime side of the aiguard benchmark (bench/run drives it).
//
// usage: node ort_bench.js MODEL.onnx THREADS [--repeat1 R] [--warmup1 W]
//            [--repeat8 R] [--warmup8 W] [--batch8 N] [--size S]
//            [--input FILE --logits FILE]
//
// One session with THREADS intra-op threads, one inter-op thread, all graph
// optimisations, sequential execution, CPU provider.  Times batch-1 latency
// (median of R runs after W warm-up runs) and batch-N throughput, and with
// --input writes the logits of that (n, 3, S, S) float32 input to --logits.
// Prints one JSON line.
'use strict';

const fs = require('fs');
const path = require('path');

let ort;
try {
  ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
} catch (e) {
  console.error('ort_bench: onnxruntime-node is not installed in bench/');
  process.exit(3);
}

function usage() {
  console.error('usage: node ort_bench.js MODEL.onnx THREADS [options]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    repeat1: 30, warmup1: 5, repeat8: 7, warmup8: 2, batch8: 8, size: 224,
    input: null, logits: null,
  };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      pos.push(a);
      continue;
    }
    const k = a.slice(2);
    if (!(k in o) || i + 1 >= argv.length) usage();
    const v = argv[++i];
    if (k === 'input' || k === 'logits') {
      o[k] = v;
    } else {
      o[k] = Number.parseInt(v, 10);
      if (!(o[k] >= 0)) usage();
    }
  }
  if (pos.length !== 2 || !!o.input !== !!o.logits) usage();
  o.model = pos[0];
  o.threads = Number.parseInt(pos[1], 10);
  if (!(o.threads >= 1)) usage();
  return o;
}

// The same kind of input for every timed run; its values do not change
// the amount of work.
function constInput(n, size) {
  const a = new Float32Array(n * 3 * size * size);
  let s = 12345;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s >>> 8) & 0xffff) / 32768 - 1;
  }
  return new ort.Tensor('float32', a, [n, 3, size, size]);
}

async function timed(sess, feeds, warmup, repeat) {
  for (let i = 0; i < warmup; i++) await sess.run(feeds);
  const t = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    await sess.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return t.sort((x, y) => x - y);
}

const r3 = (x) => Math.round(x * 1000) / 1000;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const sess = await ort.InferenceSession.create(o.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const inName = sess.inputNames[0];
  const outName = sess.outputNames[0];

  if (o.input) {
    const buf = fs.readFileSync(o.input);
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const n = x.length / (3 * o.size * o.size);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${o.input}: not a (n, 3, ${o.size}, ${o.size}) float32 array`);
    }
    const y = (await sess.run({ [inName]: new ort.Tensor('float32', x, [n, 3, o.size, o.size]) }))[outName];
    fs.writeFileSync(o.logits, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  }

  const t1 = await timed(sess, { [inName]: constInput(1, o.size) }, o.warmup1, o.repeat1);
  const tb = await timed(sess, { [inName]: constInput(o.batch8, o.size) }, o.warmup8, o.repeat8);
  const m1 = t1[Math.floor(t1.length / 2)];
  const mb = tb[Math.floor(tb.length / 2)];
  console.log(JSON.stringify({
    engine: 'onnxruntime',
    version: (ort.env.versions && ort.env.versions.node) || 'unknown',
    node: process.version,
    threads: o.threads,
    b1_median_ms: r3(m1),
    b1_min_ms: r3(t1[0]),
    b1_runs: t1.length,
    b8_batch: o.batch8,
    b8_median_ms: r3(mb),
    b8_img_s: Math.round((o.batch8 * 1e5) / mb) / 100,
    b8_runs: tb.length,
  }));
}

main().catch((e) => {
  console.error(`ort_bench: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
