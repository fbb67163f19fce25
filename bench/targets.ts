// The speed goals the issues set against onnxruntime-node, as ratios of medians
// (onnxruntime / tensorfuse, > 1: tensorfuse faster). Every goal is single-threaded:
// tensorfuse at 1 pool thread vs onnxruntime with intraOpNumThreads = 1.

export interface Target {
  ratio: number;
  /** The issue that sets it. */
  issue: number;
}

/** The thread count the goals are set at. */
export const TARGET_THREADS = 1;

export const TARGETS: Readonly<Record<string, Target>> = {
  // issue 3 (conv2d): every conv workload at least as fast as onnxruntime-node
  CONV3: { ratio: 1.0, issue: 3 },
  CONV1: { ratio: 1.0, issue: 3 },
  CONV3S2: { ratio: 1.0, issue: 3 },
  DW3: { ratio: 1.0, issue: 3 },
  // issue 4 (fusion blocks)
  CATCONV: { ratio: 1.3, issue: 4 },
  ADDCONV: { ratio: 1.3, issue: 4 },
  ASFF3: { ratio: 2.0, issue: 4 },
  // issue 5 (ONNX models end to end)
  resnet50: { ratio: 1.0, issue: 5 },
  densenet121: { ratio: 1.15, issue: 5 },
  inception_v1: { ratio: 1.15, issue: 5 },
};

/** The goal for a workload at a thread count, if the issues set one. */
export function targetFor(workload: string, threads: number): Target | undefined {
  return threads === TARGET_THREADS && Object.prototype.hasOwnProperty.call(TARGETS, workload) ? TARGETS[workload] : undefined;
}
