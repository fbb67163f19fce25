// Every copied ONNX Add / Mul / Sum / Concat conformance case, run through the public API
// (sync with the default inline limit, sync forced onto the native kernels, and async) and
// through lib/reference, within the README's tolerance. A case the API cannot express is
// reported as skipped with its reason, never dropped.
import * as assert from 'assert';
import { Tensor, add, addAsync, concat, concatAsync, mul, mulAsync, runtime } from '../lib';
import * as ref from '../lib/reference';
import { OnnxCase, attr, expectClose, itHoldsEveryCase, loadCases, skipWithReason, testDataDir, toTensor, unsupportedTensor } from './onnx-cases';

const OPS = ['Add', 'Mul', 'Sum', 'Concat'];
/** What the copy holds (README: Add 2, Concat 9, Mul 3, Sum 3); the hold-out set may add more. */
const MIN_CASES: Record<string, number> = { Add: 2, Concat: 9, Mul: 3, Sum: 3 };
/** Attributes each op understands; any other attribute makes the case unsupported. */
const KNOWN_ATTRIBUTES: Record<string, string[]> = { Add: [], Mul: [], Sum: [], Concat: ['axis'] };

interface Runner {
  sync(inputs: Tensor[]): Tensor;
  async(inputs: Tensor[]): Promise<Tensor>;
  reference(inputs: Tensor[]): ref.RefResult;
}

function copyOf(t: Tensor): Tensor {
  return Tensor.from(t.data.slice(), t.shape);
}

/** The runner for a case, or the reason it cannot run. */
function runnerFor(c: OnnxCase): Runner | string {
  for (const t of [...c.inputs, ...c.outputs]) {
    const why = unsupportedTensor(t);
    if (why !== undefined) return why;
  }
  const unknown = Object.keys(c.attributes).filter((a) => !KNOWN_ATTRIBUTES[c.op].includes(a));
  if (unknown.length > 0) return `unsupported attribute(s) ${unknown.join(', ')}`;
  if (c.outputs.length !== 1) return `${c.outputs.length} outputs (expected 1)`;
  switch (c.op) {
    case 'Add':
    case 'Mul': {
      if (c.inputs.length !== 2) return `${c.op} with ${c.inputs.length} inputs`;
      const isAdd = c.op === 'Add';
      return {
        sync: ([a, b]) => (isAdd ? add : mul)(a, b),
        async: ([a, b]) => (isAdd ? addAsync : mulAsync)(a, b),
        reference: ([a, b]) => (isAdd ? ref.add : ref.mul)(a, b),
      };
    }
    case 'Sum':
      // Sum = chained add over the inputs (with broadcasting); one input is a copy.
      if (c.inputs.length === 0) return 'Sum with no inputs';
      return {
        sync: (xs) => xs.slice(1).reduce((acc, x) => add(acc, x), copyOf(xs[0])),
        async: async (xs) => {
          let acc = copyOf(xs[0]);
          for (const x of xs.slice(1)) acc = await addAsync(acc, x);
          return acc;
        },
        reference: (xs) => ref.sum(xs),
      };
    case 'Concat': {
      if (!('axis' in c.attributes)) return 'Concat without an axis attribute (opset < 4)';
      const axis = attr<number>(c, 'axis', 0);
      return {
        sync: (xs) => concat(xs, axis),
        async: (xs) => concatAsync(xs, axis),
        reference: (xs) => ref.concat(xs, axis),
      };
    }
    default:
      return `op ${c.op} is not handled by this harness`;
  }
}

describe('ONNX node conformance cases (Add, Mul, Sum, Concat)', () => {
  const cases = loadCases(testDataDir('onnx-node'), OPS);
  const savedLimit = runtime.inlineLimit();
  afterEach(() => runtime.setInlineLimit(savedLimit));

  itHoldsEveryCase(cases, MIN_CASES);

  for (const c of cases) {
    it(`${c.op} ${c.name}`, async function () {
      const runner = runnerFor(c);
      if (typeof runner === 'string') return skipWithReason(this, runner);
      const inputs = () => c.inputs.map(toTensor);
      const expected = c.outputs[0];
      const before = inputs().map((t) => t.data.slice());

      const fresh = inputs();
      expectClose(runner.sync(fresh), expected, undefined, 'sync, default inline limit');
      fresh.forEach((t, i) => assert.deepStrictEqual(t.data, before[i], `inputs[${i}] was modified`));

      runtime.setInlineLimit(0);
      expectClose(runner.sync(inputs()), expected, undefined, 'sync, native kernels');
      runtime.setInlineLimit(savedLimit);

      expectClose(await runner.async(inputs()), expected, undefined, 'async');
      expectClose(runner.reference(inputs()), expected, undefined, 'lib/reference');
    });
  }
});
