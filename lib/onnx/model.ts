// loadOnnx() and Model: the public face of the ONNX runtime.
import { Tensor } from '../tensor';
import { LoadedGraph } from './load';
import { ModelSource } from './model-source';
import { CompileOptions, CompiledPlan, PlanReport, StepInfo } from './compile';
import { PASSES, MEMORY_PASSES, PassName } from './plan';

export interface LoadOptions extends CompileOptions {
  /**
   * Concrete shapes for inputs with symbolic dims, used to plan at load. Inputs whose
   * shapes are all static are planned at load anyway; others are planned on first run.
   */
  inputShapes?: Record<string, readonly number[]>;
  /**
   * Keep the parsed fp32 weights after planning (as much memory as the model file) so that a
   * new plan (other input shapes or requested outputs) needs no second parse. Default false:
   * once planned, a Model holds its packed weights only, and a new plan parses the model again
   * (re-reading the file, or the bytes passed to loadOnnx: do not modify them meanwhile).
   */
  keepWeights?: boolean;
}

export interface TensorInfo {
  name: string;
  /** Dims as declared in the file; symbolic dims are strings ('N', 'batch', '?'). */
  shape: (number | string)[];
  dtype: 'float32';
}

export interface RunOptions {
  /** Names of the values to return (graph outputs by default; any intermediate value name is allowed). */
  outputs?: readonly string[];
}

/** One step of a plan with its time (Model.profileSteps). */
export interface StepProfile extends StepInfo {
  ms: number;
}

export interface ModelPlan extends PlanReport {
  inputShapes: Record<string, number[]>;
  outputShapes: Record<string, number[]>;
  /** Bytes of the constant weights in the model file (fp32, before packing; held after planning only with keepWeights). */
  weightBytes: number;
}

const MAX_CACHED_PLANS = 8;

export class Model {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly opset: number;
  readonly producerName: string;
  private readonly source: ModelSource;
  /** The parse that the next plan uses; let go after planning unless keepWeights. */
  private parsed: LoadedGraph | undefined;
  private readonly keepWeights: boolean;
  private readonly weightBytes: number;
  private readonly options: CompileOptions;
  private readonly plans = new Map<string, CompiledPlan>();
  private lastPlan: CompiledPlan | undefined;

  /** @internal use loadOnnx() */
  constructor(source: ModelSource, loaded: LoadedGraph, options: LoadOptions) {
    this.source = source;
    this.parsed = loaded;
    this.keepWeights = options.keepWeights === true;
    this.weightBytes = 0;
    for (const c of loaded.graph.consts.values()) this.weightBytes += c.f32 ? c.f32.byteLength : 0;
    this.options = { optimize: options.optimize, passes: options.passes };
    this.opset = loaded.graph.opset;
    this.producerName = loaded.producerName;
    this.inputs = loaded.graph.inputs.map((i) => ({ name: i.name, shape: i.shape ? i.shape.slice() : ['?'], dtype: 'float32' as const }));
    this.outputs = loaded.graph.outputs.map((o) => ({ name: o.name, shape: o.shape ? o.shape.slice() : [], dtype: 'float32' as const }));
    const shapes = this.staticShapes(options.inputShapes);
    if (shapes) this.planFor(shapes, this.outputs.map((o) => o.name));
  }

  private staticShapes(given?: Record<string, readonly number[]>): Map<string, number[]> | undefined {
    const m = new Map<string, number[]>();
    for (const i of this.inputs) {
      const g = given?.[i.name];
      if (g) m.set(i.name, g.slice());
      else if (i.shape.every((d) => typeof d === 'number')) m.set(i.name, i.shape as number[]);
      else return undefined;
    }
    return m;
  }

  private planFor(shapes: Map<string, number[]>, outputs: readonly string[]): CompiledPlan {
    const key = `${[...shapes].map(([k, v]) => `${k}:${v.join('x')}`).join(';')}|${outputs.join(';')}`;
    let p = this.plans.get(key);
    if (!p) {
      const loaded = this.parsed ?? this.source.parse();
      p = new CompiledPlan(loaded.graph, loaded.dtypes, shapes, outputs.slice(), this.options);
      this.parsed = this.keepWeights ? loaded : undefined;
      if (this.plans.size >= MAX_CACHED_PLANS) this.plans.delete(this.plans.keys().next().value as string);
      this.plans.set(key, p);
    }
    this.lastPlan = p;
    return p;
  }

  private prepare(op: string, feeds: Record<string, Tensor>, options?: RunOptions): { plan: CompiledPlan; map: Map<string, Tensor>; names: readonly string[] } {
    if (feeds === null || typeof feeds !== 'object') throw new TypeError(`${op}: feeds must be an object { inputName: Tensor }`);
    const map = new Map<string, Tensor>();
    const shapes = new Map<string, number[]>();
    for (const i of this.inputs) {
      const t = feeds[i.name];
      if (!(t instanceof Tensor)) {
        throw new TypeError(`${op}: missing input '${i.name}' (a Tensor of shape [${i.shape.join(',')}]); model inputs: ${this.inputs.map((x) => x.name).join(', ')}`);
      }
      // The compiled plan reads and copies feeds as whole buffers.
      if (!t.isContiguous) {
        throw new RangeError(`${op}: input '${i.name}' [${t.shape.join(',')}] is a strided channel view, which a model does not take; pass its contiguous() copy`);
      }
      if (t.shape.length !== i.shape.length || i.shape.some((d, k) => typeof d === 'number' && d !== t.shape[k])) {
        throw new RangeError(`${op}: input '${i.name}' has shape [${t.shape.join(',')}] but the model declares [${i.shape.join(',')}]`);
      }
      map.set(i.name, t);
      shapes.set(i.name, t.shape.slice());
    }
    for (const k of Object.keys(feeds)) {
      if (!map.has(k)) throw new RangeError(`${op}: '${k}' is not an input of the model (inputs: ${this.inputs.map((x) => x.name).join(', ')})`);
    }
    const names = options?.outputs ?? this.outputs.map((o) => o.name);
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string')) {
      throw new TypeError(`${op}: options.outputs must be a non-empty array of value names`);
    }
    return { plan: this.planFor(shapes, names), map, names };
  }

  /** Runs the model on the calling thread; returns the requested outputs (new tensors). */
  run(feeds: Record<string, Tensor>, options?: RunOptions): Record<string, Tensor> {
    const p = this.prepare('Model.run', feeds, options);
    return p.plan.run(p.map, p.names);
  }

  /** run() with each native kernel on the libuv pool; the main thread stays free between ops. */
  async runAsync(feeds: Record<string, Tensor>, options?: RunOptions): Promise<Record<string, Tensor>> {
    const p = this.prepare('Model.runAsync', feeds, options);
    return p.plan.runAsync(p.map, p.names);
  }

  /** run() timing every step; adds milliseconds per op type into `profile`. */
  profile(feeds: Record<string, Tensor>, profile: Map<string, number>, options?: RunOptions): Record<string, Tensor> {
    const t = this.timedRuns('Model.profile', feeds, 1, options);
    t.steps.forEach((s) => profile.set(s.op, (profile.get(s.op) ?? 0) + s.ms));
    return t.result;
  }

  /**
   * run() timing every step: one entry per step of the plan, in run order, with its
   * milliseconds summed over `runs` runs (default 1).
   */
  profileSteps(feeds: Record<string, Tensor>, runs = 1, options?: RunOptions): StepProfile[] {
    return this.timedRuns('Model.profileSteps', feeds, runs, options).steps;
  }

  /** `runs` runs with every step timed: the last run's outputs and each step's summed time. */
  private timedRuns(op: string, feeds: Record<string, Tensor>, runs: number, options?: RunOptions): { result: Record<string, Tensor>; steps: StepProfile[] } {
    const p = this.prepare(op, feeds, options);
    const stepMs: number[] = [];
    let result: Record<string, Tensor> = {};
    for (let r = 0; r < runs; r++) result = p.plan.run(p.map, p.names, stepMs);
    return { result, steps: p.plan.report.stepList.map((info, i) => ({ ...info, ms: stepMs[i] ?? 0 })) };
  }

  /**
   * The plan for `inputShapes` (default: the declared static shapes, or the last shapes
   * run): steps, fusions, buffer bytes.
   */
  plan(inputShapes?: Record<string, readonly number[]>): ModelPlan {
    let p = this.lastPlan;
    if (inputShapes || !p) {
      const shapes = this.staticShapes(inputShapes);
      if (!shapes) throw new RangeError('Model.plan: the model has symbolic input dims; pass inputShapes');
      p = this.planFor(shapes, this.outputs.map((o) => o.name));
    }
    const weightBytes = this.weightBytes;
    return {
      ...p.report,
      inputShapes: Object.fromEntries(p.inputShapes),
      outputShapes: Object.fromEntries(p.outputShapes),
      weightBytes,
    };
  }

  /** The planner's passes (name, description), for CLIs and docs. */
  static passes(): { name: PassName; description: string }[] {
    return [...PASSES.map((p) => ({ name: p.name, description: p.description })), ...MEMORY_PASSES];
  }
}

/**
 * Parses an ONNX model (file path or bytes), checks that every node can run, folds the
 * constant sub-graphs and plans it. Throws UnsupportedModelError listing every unsupported
 * node, opset or data type.
 */
export async function loadOnnx(pathOrBytes: string | Uint8Array | ArrayBuffer, options: LoadOptions = {}): Promise<Model> {
  return loadOnnxSync(pathOrBytes, options);
}

/** loadOnnx() without the Promise. */
export function loadOnnxSync(pathOrBytes: string | Uint8Array | ArrayBuffer, options: LoadOptions = {}): Model {
  if (options === null || typeof options !== 'object') throw new TypeError('loadOnnx: options must be an object');
  const { source, loaded } = ModelSource.open(pathOrBytes);
  return new Model(source, loaded, options);
}
