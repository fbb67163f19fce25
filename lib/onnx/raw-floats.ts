// float32 raw_data of a decoded TensorProto as a Float32Array, without a copy where possible.
//
// protobufjs decodes a bytes field as a view into the model bytes, but a Float32Array needs
// a 4-byte aligned start, which most raw_data payloads in a file lack (protobuf packs fields
// back to back). A copy would double the weights in memory while the model loads (the file
// bytes stay alive until the next garbage collection). When the loader owns the bytes (it
// read the file itself) a misaligned payload is instead moved down by 1-3 bytes onto its own
// field header (tag + length varint: 3+ bytes for a payload of 128+ bytes), which the decoded
// message no longer needs: the weights then stay where they are in the file buffer. The
// bytes are no valid protobuf afterwards; the loader never decodes them again.

/** Payloads shorter than this are copied (their varint length may be a single byte). */
const MIN_MOVABLE_BYTES = 128;

/**
 * `raw` (n * 4 bytes) as floats. When `owned` is the buffer the message was decoded from and
 * the loader's to modify: a view into it (moved into alignment first if needed). Otherwise
 * (the caller's bytes, which may change after the load) a copy.
 */
export function floatsFromRaw(raw: Uint8Array, n: number, owned?: Uint8Array): Float32Array {
  const shift = raw.byteOffset % 4;
  const inOwned = owned !== undefined && raw.buffer === owned.buffer &&
    raw.byteOffset - shift >= owned.byteOffset && raw.byteOffset + raw.byteLength <= owned.byteOffset + owned.byteLength;
  if (inOwned && shift === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
  if (inOwned && raw.byteLength >= MIN_MOVABLE_BYTES) {
    const start = raw.byteOffset - shift;
    new Uint8Array(raw.buffer).copyWithin(start, raw.byteOffset, raw.byteOffset + raw.byteLength);
    return new Float32Array(raw.buffer, start, n);
  }
  const copy = new Float32Array(n);
  new Uint8Array(copy.buffer).set(raw);
  return copy;
}

/**
 * Data for something that outlives the load (a plan's constant tensors, a Conv2d's bias): a
 * copy when `f` is a view into a larger buffer, such as the model file's bytes, which it
 * would otherwise keep alive whole.
 */
export function ownData(f: Float32Array): Float32Array {
  return f.byteLength === f.buffer.byteLength ? f : f.slice();
}
