// The fusion blocks: concat/add -> conv, FPN merge, ASFF, dense and residual blocks.
export { addAsConcatWeight, splitConcatWeight } from './identities';
export { concatConv, concatConvAsync, addConv, addConvAsync } from './concatConv';
export { fpnMerge, fpnMergeAsync } from './fpn';
export type { FpnMergeOptions } from './fpn';
export { asff, asffAsync, asffFuse, asffFuseAsync, createAsffParams } from './asff';
export type { AsffLevel, AsffOptions, AsffParams, AsffWeights, AsffWeightSet, AsffFuseConvs, ConvWeights } from './asff';
export { denseBlock, denseBlockAsync } from './dense';
export type { DenseLayer, DenseBlockResult } from './dense';
export { residual, residualAsync, convResidual, convResidualAsync } from './residual';
export type { ConvResidualOptions, ResidualActivation } from './residual';
export { fusionScratchStats } from './native-path';
