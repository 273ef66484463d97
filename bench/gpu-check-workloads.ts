// The workloads of the GPU device check (issue 7), as bench/workloads/ names them; written out here
// so the device check needs no list file (test/gpu-check.test.ts compares them with the lists).
export interface CheckWorkload { name: string; op: string; shape: Record<string, number> }

export const GPU_CHECK_WORKLOADS: CheckWorkload[] = [
  { name: 'gemm-1024', op: 'gemm', shape: { M: 1024, N: 1024, K: 1024 } },
  { name: 'yolo-C9', op: 'conv2d', shape: { N: 1, C: 512, H: 28, W: 28, K: 512, R: 1, S: 1, stride: 1, pad: 0, dilation: 1, groups: 1 } },
];
