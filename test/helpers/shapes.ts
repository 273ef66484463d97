// Shapes shared by the correctness tests of every target.

/** Tiny shapes for CPU emulation: odd and prime extents, stride 2, pad, dilation 2, groups 4, multiplier 2. */
export const TINY_SHAPES: Record<string, Record<string, number>> = {
  gemv: { M: 13, K: 15 },
  gemm: { M: 15, N: 13, K: 7 },
  batch_gemm: { B: 3, M: 7, N: 5, K: 11 },
  bilinear: { N: 5, K1: 7, K2: 3, M: 13 },
  conv1d: { N: 1, C: 3, L: 15, K: 5, R: 3, stride: 2, pad: 1, dilation: 2 },
  conv2d: { N: 1, C: 3, H: 9, W: 7, K: 5, R: 3, S: 3, stride: 2, pad: 1 },
  conv3d: { N: 1, C: 2, D: 5, H: 7, W: 6, K: 3, T: 3, R: 2, S: 3, pad: 1, dilation: 2 },
  conv_transpose1d: { N: 1, C: 3, L: 7, K: 5, R: 3, stride: 2, pad: 1 },
  conv_transpose2d: { N: 1, C: 2, H: 5, W: 4, K: 3, R: 3, S: 3, stride: 2, pad: 1, dilation: 2 },
  conv_transpose3d: { N: 1, C: 2, D: 3, H: 4, W: 3, K: 3, T: 2, R: 3, S: 2, stride: 2 },
  grouped_conv2d: { N: 1, C: 8, H: 7, W: 9, K: 12, R: 3, S: 3, stride: 2, pad: 1, groups: 4 },
  depthwise_conv2d: { N: 1, C: 4, H: 11, W: 7, R: 3, S: 3, pad: 1, dilation: 2, multiplier: 2 },
  dilated_conv2d: { N: 1, C: 3, H: 13, W: 11, K: 4, R: 3, S: 3, pad: 2, dilation: 2 },
};

/** Layer-sized shapes, so that tiles, unrolling and shared boxes look like the ones tuning meets. */
export const LAYER_SHAPES: Record<string, Record<string, number>> = {
  gemv: { M: 1024, K: 1024 },
  gemm: { M: 512, N: 512, K: 512 },
  batch_gemm: { B: 8, M: 256, N: 256, K: 256 },
  bilinear: { N: 32, K1: 64, K2: 64, M: 128 },
  conv1d: { N: 1, C: 64, L: 256, K: 64, R: 3, pad: 1 },
  conv2d: { N: 1, C: 256, H: 28, W: 28, K: 256, R: 3, S: 3, pad: 1 },
  conv3d: { N: 1, C: 16, D: 8, H: 14, W: 14, K: 32, T: 3, R: 3, S: 3, pad: 1 },
  conv_transpose1d: { N: 1, C: 64, L: 128, K: 32, R: 4, stride: 2, pad: 1 },
  conv_transpose2d: { N: 1, C: 64, H: 14, W: 14, K: 32, R: 4, S: 4, stride: 2, pad: 1 },
  conv_transpose3d: { N: 1, C: 16, D: 7, H: 7, W: 7, K: 16, T: 3, R: 3, S: 3, stride: 2, pad: 1 },
  grouped_conv2d: { N: 1, C: 128, H: 28, W: 28, K: 128, R: 3, S: 3, pad: 1, groups: 4 },
  depthwise_conv2d: { N: 1, C: 64, H: 56, W: 56, R: 3, S: 3, pad: 1, stride: 2 },
  dilated_conv2d: { N: 1, C: 64, H: 28, W: 28, K: 64, R: 3, S: 3, pad: 2, dilation: 2 },
};
