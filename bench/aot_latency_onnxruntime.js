// onnxruntime's inference latency for the MNIST MLP (bench/aot_latency.sh):
// one intra-op thread, medians, the model exported by
// aot_latency_pytorch.py. Needs npm's onnxruntime-node, installed outside
// the repository (see aot_latency.sh); not used by the tests.
//   node aot_latency_onnxruntime.js MODEL.onnx
const ort = require('onnxruntime-node');

async function medianUs(session, batch, reps, inner) {
  const x = new ort.Tensor('float32', new Float32Array(batch * 784).fill(0.5),
                           [batch, 784]);
  const times = [];
  for (let r = 0; r < reps; ++r) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < inner; ++i)
      await session.run({x});
    times.push(Number(process.hrtime.bigint() - start) / 1e3 / inner);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

(async () => {
  const session = await ort.InferenceSession.create(process.argv[2], {
    intraOpNumThreads: 1, interOpNumThreads: 1,
    graphOptimizationLevel: 'all'});
  console.log(`onnxruntime batch1_us ${(await medianUs(session, 1, 201, 100)).toFixed(2)}`);
  console.log(`onnxruntime batch64_us ${(await medianUs(session, 64, 101, 10)).toFixed(2)}`);
})();
