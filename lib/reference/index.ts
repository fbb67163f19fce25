// Plain-TS reference implementations: the oracle in tests, never the fast path.
export { add, mul, sum, binary, broadcastShape, sizeOf, stridesOf } from './elementwise';
export type { RefTensor, RefResult } from './elementwise';
export { concat } from './concat';
export { relu, sigmoid, clip, leakyRelu, softmax } from './activation';
export { weightedSum } from './weighted';
export { maxPool2d, avgPool2d, globalPool, lrn } from './pool';
export type { RefPoolOptions, RefLrnOptions } from './pool';
export { resize, upsampleNearest } from './resize';
export type { RefResizeOptions, RefCoordMode, RefNearestMode } from './resize';
export { slice, split } from './slice';
export type { RefSliceSpec } from './slice';
export { conv2dRef } from './conv2d';
export {
  concatConvRef, addConvRef, residualRef, convResidualRef, fpnMergeRef, asffFuseRef, asffRef, denseBlockRef,
} from './fusion';
export type { RefConv, RefConvWeights, RefAsffWeights } from './fusion';
