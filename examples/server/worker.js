// piscina worker for server.js --variant piscina: one FpnPipeline per worker thread, run
// synchronously (this thread is the one core it uses); the result goes back as a transferred
// ArrayBuffer.
'use strict';
const { workerData } = require('worker_threads');
const { Piscina } = require('piscina');
const tf = require('../../');
const { FpnPipeline } = require('./pipeline');

tf.runtime.setThreads(1); // process-wide: the workers are the parallelism
const pipeline = new FpnPipeline(workerData.geometry, 1);
const slot = pipeline.free[0];

module.exports = ({ input }) => {
  slot.input.set(new Float32Array(input));
  const out = pipeline.runSync(slot);
  const result = out.data.slice().buffer; // a copy: out is this slot's reused output, and a view into its buffer
  return Piscina.move(result);
};
