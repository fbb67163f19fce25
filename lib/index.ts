export { Tensor } from './tensor';
export { add, mul, addAsync, mulAsync } from './ops/elementwise';
export type { OutOptions } from './ops/elementwise';
export { concat, concatAsync } from './ops/concat';
export { runtime } from './runtime';
export type { RuntimeInfo } from './runtime';
