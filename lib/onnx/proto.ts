// ONNX protobuf → plain JS values. Decoding is done by onnx-proto (protobufjs generated
// from onnx.proto); this file only converts its messages (Long ints, raw_data bytes) into
// the loader's IR types.
import { onnx } from 'onnx-proto';
import { floatsFromRaw } from './raw-floats';
import { Attr, ConstTensor, DType, ValueInfo } from './ir';

type LongLike = number | { toNumber(): number } | null | undefined;

export function num(v: LongLike): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return v.toNumber();
}

export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

const DT = onnx.TensorProto.DataType;

export function dtypeName(code: number): string {
  return (DT as unknown as Record<number, string>)[code] ?? `dtype ${code}`;
}

/** Our dtype for an ONNX element type, or null when the loader does not support it. */
export function dtypeOf(code: number): DType | null {
  if (code === DT.FLOAT) return 'float32';
  if (code === DT.INT64) return 'int64';
  return null;
}

function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * A TensorProto as a constant. Throws for element types other than float32 / int64 (the
 * caller turns that into a load error) and for external data. `owned`: the model bytes when
 * the loader owns them (float data may then stay in them: raw-floats.ts).
 */
export function tensorFromProto(t: onnx.ITensorProto, what: string, owned?: Uint8Array): ConstTensor {
  const dims = (t.dims ?? []).map(num);
  const dtype = dtypeOf(t.dataType ?? 0);
  if (dtype === null) throw new Error(`${what}: element type ${dtypeName(t.dataType ?? 0)} is not supported (float32 and int64 only)`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData && t.externalData.length > 0)) {
    throw new Error(`${what}: external data is not supported`);
  }
  const n = sizeOf(dims);
  const raw = t.rawData;
  if (dtype === 'float32') {
    let data: Float32Array;
    if (raw && raw.length > 0) {
      if (raw.length !== n * 4) throw new Error(`${what}: raw_data has ${raw.length} bytes for ${n} floats`);
      data = floatsFromRaw(raw, n, owned);
    } else {
      const f = t.floatData ?? [];
      if (f.length !== n) throw new Error(`${what}: float_data has ${f.length} values for ${n} elements`);
      data = Float32Array.from(f);
    }
    return { dtype, dims, f32: data };
  }
  let ints: number[];
  if (raw && raw.length > 0) {
    if (raw.length !== n * 8) throw new Error(`${what}: raw_data has ${raw.length} bytes for ${n} int64 values`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    ints = new Array<number>(n);
    for (let i = 0; i < n; i++) ints[i] = Number(view.getBigInt64(i * 8, true));
  } else {
    ints = (t.int64Data ?? []).map(num);
    if (ints.length !== n) throw new Error(`${what}: int64_data has ${ints.length} values for ${n} elements`);
  }
  return { dtype, dims, i64: ints };
}

/** A float32 constant as a TensorProto (raw_data, little-endian). */
export function tensorToProto(name: string, dims: readonly number[], data: Float32Array): onnx.ITensorProto {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dims: dims.slice(), dataType: DT.FLOAT, rawData: bytes };
}

export function attrFromProto(a: onnx.IAttributeProto, what: string, owned?: Uint8Array): Attr {
  const A = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case A.FLOAT: return a.f ?? 0;
    case A.INT: return num(a.i);
    case A.STRING: return Buffer.from(a.s ?? new Uint8Array()).toString('utf8');
    case A.FLOATS: return (a.floats ?? []).slice();
    case A.INTS: return (a.ints ?? []).map(num);
    case A.STRINGS: return (a.strings ?? []).map((s) => Buffer.from(s).toString('utf8'));
    case A.TENSOR: return tensorFromProto(a.t ?? {}, `${what} attribute ${a.name}`, owned);
    default:
      throw new Error(`${what}: attribute ${a.name} has unsupported type ${a.type}`);
  }
}

export function valueInfoFromProto(v: onnx.IValueInfoProto): ValueInfo {
  const tt = v.type?.tensorType;
  const elem = tt?.elemType ?? 0;
  const dims = tt?.shape?.dim?.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : '?')) ?? null;
  return { name: v.name ?? '', elemType: elem, dtype: dtypeOf(elem), shape: dims };
}
