// The workloads of the GPU device check (issue 7), as ../shared/workloads names them; that folder
// may not travel to the GPU machine, so they are written out here (a test compares them).
export interface CheckWorkload { name: string; op: string; shape: Record<string, number> }

export const GPU_CHECK_WORKLOADS: CheckWorkload[] = [
  { name: 'gemm-1024', op: 'gemm', shape: { M: 1024, N: 1024, K: 1024 } },
  { name: 'yolo-C9', op: 'conv2d', shape: { N: 1, C: 512, H: 28, W: 28, K: 512, R: 1, S: 1, stride: 1, pad: 0, dilation: 1, groups: 1 } },
];
