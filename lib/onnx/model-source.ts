// Where a Model's graph comes from, and how the Model gets it again.
//
// The parsed graph holds every weight as fp32: as much memory as the model file. A plan packs
// the weights it uses into its convs, so the Model keeps the parsed graph only until it has
// planned (unless LoadOptions.keepWeights): a later plan (new input shapes, other requested
// outputs) parses the model again from here. From a file, which must be unchanged (size and
// mtime are checked); or from the bytes the caller passed, kept by reference (not copied: the
// caller must not modify them while the Model is in use).
import * as fs from 'fs';
import { LoadedGraph, parseModel, readModelBytes } from './load';

function fileStamp(path: string): string {
  const st = fs.statSync(path);
  return `${st.size} bytes, modified ${st.mtime.toISOString()}`;
}

export class ModelSource {
  private constructor(private readonly path: string | undefined, private readonly bytes: Uint8Array | undefined,
    private readonly stamp: string) {}

  /** The source of `pathOrBytes` and its first parse. */
  static open(pathOrBytes: string | Uint8Array | ArrayBuffer): { source: ModelSource; loaded: LoadedGraph } {
    if (typeof pathOrBytes === 'string') {
      const stamp = fileStamp(pathOrBytes);
      // The loader's own copy of the file: the weights may stay in it (parseModel ownsBytes).
      const loaded = parseModel(readModelBytes(pathOrBytes), true);
      return { source: new ModelSource(pathOrBytes, undefined, stamp), loaded };
    }
    const bytes = readModelBytes(pathOrBytes);
    return { source: new ModelSource(undefined, bytes, ''), loaded: parseModel(bytes) };
  }

  /** Parses the model again (for a new plan once the first parse was let go). */
  parse(): LoadedGraph {
    if (this.path === undefined) return parseModel(this.bytes!);
    const stamp = fileStamp(this.path);
    if (stamp !== this.stamp) {
      throw new Error(`loadOnnx: ${this.path} changed since the model was loaded (${this.stamp}, now ${stamp}); ` +
        'a new plan re-reads it: load the model again, or load with { keepWeights: true }');
    }
    return parseModel(readModelBytes(this.path), true);
  }
}
