// The planner's extended Conv node. An ONNX Conv reads [X, W, B]; the conv fusions give it a
// residual skip and more sources for X while W and B stay where every other reader expects
// them:
//
//   inputs = [x0, W, B, skip, x1, x2, ...]     attrs.sourceMode = 'concat' | 'sum'
//
// The conv's input is the channel concat (or the sum) of x0, x1, ... (one source: x0 itself);
// with a skip, y = act(conv + B + skip) and attrs.activation is that act, applied after the
// add (Conv2d.runSources' residual epilogue); without one it is the conv's own activation.
// attrs.weightScale (a ConstTensor of Cout floats), when set, multiplies W per output channel:
// a folded BatchNormalization, applied when the step packs the weights (conv-step.ts).
// attrs.inputScale / inputShift (ConstTensors of Cin floats) and inputRelu, when set, are a
// BatchNormalization (+ ReLU when inputRelu is 1) before the conv, applied to x inside it
// (Conv2d inputAffine).
import { Node } from './ir';

export type SourceMode = 'concat' | 'sum';

export interface ConvParts {
  sources: string[];
  mode: SourceMode;
  weight: string;
  bias: string;
  /** '' when the conv has no residual skip. */
  skip: string;
}

export function convParts(n: Node): ConvParts {
  const [x0, weight, bias = '', skip = '', ...more] = n.inputs;
  return { sources: [x0, ...more], mode: (n.attrs.sourceMode as SourceMode | undefined) ?? 'concat', weight, bias, skip };
}

export function setConvParts(n: Node, p: ConvParts): void {
  const [x0, ...more] = p.sources;
  n.inputs = more.length > 0 || p.skip !== '' ? [x0, p.weight, p.bias, p.skip, ...more] : [x0, p.weight, p.bias];
  if (more.length > 0) n.attrs = { ...n.attrs, sourceMode: p.mode };
}

/** A Conv that reads one source and has no skip (what an ONNX Conv is before the fusions). */
export function isPlainConv(n: Node): boolean {
  return n.op === 'Conv' && n.inputs.length <= 3;
}
