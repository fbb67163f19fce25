export { Tensor } from './tensor';
export { add, mul, addAsync, mulAsync } from './ops/elementwise';
export type { OutOptions } from './ops/elementwise';
export { concat, concatAsync } from './ops/concat';
export { conv2d, conv2dAsync, Conv2d } from './ops/conv2d';
export type { Conv2dOptions, Conv2dWeightOptions, Conv2dActivation, Conv2dAlgorithm, Conv2dLayout } from './ops/conv2d';
export { runtime } from './runtime';
export type { RuntimeInfo } from './runtime';
export { relu, sigmoid, clip, leakyRelu, softmax, reluAsync, sigmoidAsync, clipAsync, leakyReluAsync, softmaxAsync } from './ops/activation';
export { channelAffine, channelAffineAsync } from './ops/channel-affine';
export type { ChannelAffineOptions } from './ops/channel-affine';
export { weightedSum, weightedSumAsync } from './ops/weighted';
export { maxPool2d, maxPool2dAsync, avgPool2d, avgPool2dAsync } from './ops/pool';
export type { MaxPool2dOptions, AvgPool2dOptions, Pool2dOptions, PoolLayout } from './ops/pool';
export { globalAvgPool, globalAvgPoolAsync, globalMaxPool, globalMaxPoolAsync } from './ops/global-pool';
export { lrn, lrnAsync } from './ops/lrn';
export type { LrnOptions } from './ops/lrn';
export { resize, resizeAsync, upsampleNearest, upsampleNearestAsync } from './ops/resize';
export type { ResizeOptions, CoordinateTransformationMode, NearestMode, UpsampleScale } from './ops/resize';
export { slice, sliceAsync, split, splitAsync } from './ops/slice';
export type { SliceSpec } from './ops/slice';
export { loadOnnx, loadOnnxSync, Model, UnsupportedModelError } from './onnx';
export type { LoadOptions, RunOptions, TensorInfo, ModelPlan, StepProfile } from './onnx';
export {
  addAsConcatWeight, splitConcatWeight, concatConv, concatConvAsync, addConv, addConvAsync, fpnMerge, fpnMergeAsync,
  asff, asffAsync, asffFuse, asffFuseAsync, createAsffParams, denseBlock, denseBlockAsync,
  residual, residualAsync, convResidual, convResidualAsync, fusionScratchStats,
} from './fusion';
export type {
  FpnMergeOptions, AsffLevel, AsffOptions, AsffParams, AsffWeights, AsffWeightSet, AsffFuseConvs, ConvWeights,
  DenseLayer, DenseBlockResult, ConvResidualOptions, ResidualActivation,
} from './fusion';
