// The micro-kernels' reduction loops must be inlined into their kernels (TF_INLINE_LOOP in
// native/kernels/conv2d/conv_ukernels.h). When GCC outlined conv_gemm's loop lambda, the
// register tile's accumulators went through memory around every FMA: 2x slower whenever
// another thread shared the core. Checked on the built addon's symbol table (nm), so a
// compiler or code change that outlines one again fails here, not only in a benchmark.
// Skipped without nm or without symbols (a stripped build).
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

const ADDON = path.resolve(__dirname, '..', '..', 'build', 'Release', 'tensorfuse.node');

describe('micro-kernel loops are inlined in the built addon', function () {
  this.timeout(30000);

  it('has no outlined reduction-loop lambda of a conv micro-kernel', function () {
    const r = spawnSync('nm', ['-C', ADDON], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error || r.status !== 0) this.skip();
    const symbols = r.stdout.split('\n');
    const kernels = symbols.filter((s) => /tf::ukernel::(conv_gemm|conv_igemm|conv_gather_gemm|blocked_tile)</.test(s));
    if (kernels.length === 0) this.skip();  // stripped
    const outlined = kernels.filter((s) => /\{lambda\(bool\)#\d+\}::operator\(\)/.test(s));
    assert.deepStrictEqual(outlined.map((s) => s.replace(/^\S+ \S+ /, '').slice(0, 120)), []);
  });
});
