// Plain-TS reference implementations: the oracle in tests, never the fast path.
export { add, mul, sum, binary, broadcastShape, sizeOf, stridesOf } from './elementwise';
export type { RefTensor, RefResult } from './elementwise';
export { concat } from './concat';
