// Concat → Conv as concatConv, decided by the memory planner once it knows which concat
// inputs it placed in their channel slice (compile.ts, "concat in place").
//
// Which is better, per case:
//  - every input placed: the concat costs nothing already (its producers wrote into the
//    output) and the conv reads one contiguous tensor, its simplest path; gathering would
//    save nothing. Keep the concat (a no-op step). Measured on SqueezeNet (5 such concats
//    into 1x1 convs), 1 thread, 3 x 300 runs alternating: min 5.80-6.03 ms kept vs
//    6.02-6.08 ms gathered, medians within the noise.
//  - some input copied (a graph input, a value the concat reads twice or that is placed in
//    another concat, batch > 1): the copy is a full pass over that input, while the conv
//    gathers its input planes from several tensors at no extra cost (in the padded copy it
//    makes anyway, or as one GEMM reduction segment per source for the in-place 1x1 path).
//    The conv reads the concat's inputs as sources and the concat does not run.
// Only a channel concat (axis 1, rank 4) whose single reader is a one-source conv qualifies;
// with groups > 1, each input must cover whole groups (the kernel maps sources to GEMM blocks).
import { Node, attrInt, consumers } from './ir';
import { convParts, setConvParts } from './conv-node';

/** As concatConv checks: with groups > 1, every input is whole groups (so its start is too). */
function coversWholeGroups(channels: number[], groups: number): boolean {
  if (groups === 1) return true;
  const per = channels.reduce((a, b) => a + b, 0) / groups;
  return channels.every((c) => c % per === 0);
}

/**
 * Rewrites each qualifying conv to read the concat's inputs and extends their liveness to the
 * conv; returns concat node index → conv node index for the concats that no longer run.
 */
export function gatherCopiedConcats(nodes: Node[], shapeOf: (v: string) => number[], keep: Set<string>,
  placed: ReadonlyMap<number, boolean[]>, last: Map<string, number>): Map<number, number> {
  const uses = consumers(nodes);
  const gathered = new Map<number, number>();
  for (const [idx, inPlace] of placed) {
    if (inPlace.every((p) => p)) continue;
    const cat = nodes[idx];
    const out = cat.outputs[0];
    const rank = shapeOf(out).length;
    if (rank !== 4 || (attrInt(cat, 'axis', 1) + rank) % rank !== 1 || keep.has(out)) continue;
    const readers = uses.get(out) ?? [];
    if (readers.length !== 1 || readers[0][1] !== 0) continue;
    const j = readers[0][0];
    const conv = nodes[j];
    // (a blocked conv reads one tensor: its concat stays, copying what was not placed)
    if (conv.op !== 'Conv' || conv.attrs.layout === 'NCHWc') continue;
    const parts = convParts(conv);
    if (parts.sources.length !== 1 || !coversWholeGroups(cat.inputs.map((v) => shapeOf(v)[1]), attrInt(conv, 'group', 1))) continue;
    setConvParts(conv, { ...parts, sources: cat.inputs.slice(), mode: 'concat' });
    conv.fused = [...(cat.fused ?? [cat.name]), ...(conv.fused ?? [conv.name])];
    for (const v of cat.inputs) last.set(v, Math.max(last.get(v) ?? j, j));
    gathered.set(idx, j);
  }
  return gathered;
}
