// Argument checks shared by every op. Messages name the op, the argument and the shapes.

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  return `${typeof value} ${String(value)}`;
}

export function typeError(op: string, message: string): TypeError {
  return new TypeError(`${op}: ${message}`);
}

export function rangeError(op: string, message: string): RangeError {
  return new RangeError(`${op}: ${message}`);
}

export function expectFloat32Array(op: string, name: string, value: unknown): asserts value is Float32Array {
  if (!(value instanceof Float32Array)) {
    throw typeError(op, `${name} must be a Float32Array, got ${describe(value)}`);
  }
}

/** Checks a shape argument and returns it as a frozen copy. */
export function checkShape(op: string, name: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) throw typeError(op, `${name} must be an array of dims, got ${describe(shape)}`);
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') throw typeError(op, `${name}[${i}] must be a number, got ${describe(d)}`);
    if (!Number.isSafeInteger(d) || d < 0) {
      throw rangeError(op, `${name}[${i}] must be a non-negative integer, got ${d} in ${formatShape(shape as number[])}`);
    }
  }
  const size = shape.reduce((p: number, d: number) => p * d, 1);
  if (!Number.isSafeInteger(size)) throw rangeError(op, `${name} ${formatShape(shape)} has too many elements`);
  return Object.freeze(shape.slice() as number[]);
}

export function checkInteger(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw typeError(op, `${name} must be an integer, got ${describe(value)}`);
  }
  return value;
}

export function describeValue(value: unknown): string {
  return describe(value);
}
