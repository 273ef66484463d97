// Every operator family flexfarm knows, in the order `flexfarm ops` lists them.
import type { OpFamily } from '../compute.ts';
import { batchGemm, gemm, gemv } from './gemm.ts';
import { bilinear } from './bilinear.ts';
import { conv1d, conv2d, conv3d, depthwiseConv2d, dilatedConv2d, groupedConv2d } from './conv.ts';
import { convTranspose1d, convTranspose2d, convTranspose3d } from './conv-transpose.ts';

export const OP_FAMILIES: OpFamily[] = [
  gemv, gemm, batchGemm, bilinear,
  conv1d, conv2d, conv3d,
  convTranspose1d, convTranspose2d, convTranspose3d,
  groupedConv2d, depthwiseConv2d, dilatedConv2d,
];
