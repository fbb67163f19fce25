// ONNX graphs on tensorfuse: loadOnnx(path | bytes) → Model.
export { loadOnnx, loadOnnxSync, Model } from './model';
export type { LoadOptions, RunOptions, TensorInfo, ModelPlan, StepProfile } from './model';
export { UnsupportedModelError, SUPPORTED_OPS, MIN_OPSET, MAX_OPSET } from './load';
export type { PlanReport, StepInfo, CompileOptions } from './compile';
export type { PassName } from './plan';
