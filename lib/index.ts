export { Tensor } from './tensor';
export { add, mul, addAsync, mulAsync } from './ops/elementwise';
export type { OutOptions } from './ops/elementwise';
export { concat, concatAsync } from './ops/concat';
export { conv2d, conv2dAsync, Conv2d } from './ops/conv2d';
export type { Conv2dOptions, Conv2dWeightOptions, Conv2dActivation, Conv2dLayout } from './ops/conv2d';
export { runtime } from './runtime';
export type { RuntimeInfo } from './runtime';
