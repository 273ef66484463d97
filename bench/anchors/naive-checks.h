/* Spot checks of an anchor's output: sampled elements recomputed as naive double-precision sums
 * with flexfarm's layouts (gemm: A[M,K], B[K,N], C[M,N] row-major; conv2d: I[N,C,H,W],
 * W[K,C/groups,R,S], O[N,K,OH,OW]), so a library called wrongly cannot flatter flexfarm. */
#ifndef FF_NAIVE_CHECKS_H
#define FF_NAIVE_CHECKS_H

#include "anchor-common.h"

typedef struct { long M, N, K; } ff_gemm;

static inline ff_gemm ff_gemm_shape(const ff_options* o) {
  ff_gemm g = { ff_param(o, "M", -1), ff_param(o, "N", -1), ff_param(o, "K", -1) };
  if (g.M < 1 || g.N < 1 || g.K < 1) ff_fail("RUNTIME", "gemm extents must be positive");
  return g;
}

static inline ff_check ff_check_gemm(const ff_gemm* g, const ff_options* o, const float* A, const float* B, const float* C) {
  ff_check c = { 0, 0 };
  for (int s = 0; s < o->samples; ++s) {
    long idx = ff_sample(s, g->M * g->N), m = idx / g->N, n = idx % g->N;
    double sum = 0;
    for (long k = 0; k < g->K; ++k) sum += (double)A[m * g->K + k] * (double)B[k * g->N + n];
    ff_expect(&c, o, idx, C[idx], sum);
  }
  return c;
}

typedef struct { long N, C, H, W, K, R, S, stride, pad, dilation, groups, OH, OW; } ff_conv2d;

static inline ff_conv2d ff_conv2d_shape(const ff_options* o) {
  ff_conv2d p;
  p.N = ff_param(o, "N", -1); p.C = ff_param(o, "C", -1); p.H = ff_param(o, "H", -1); p.W = ff_param(o, "W", -1);
  p.K = ff_param(o, "K", -1); p.R = ff_param(o, "R", -1); p.S = ff_param(o, "S", -1);
  p.stride = ff_param(o, "stride", 1); p.pad = ff_param(o, "pad", 0);
  p.dilation = ff_param(o, "dilation", 1); p.groups = ff_param(o, "groups", 1);
  if (p.groups < 1 || p.C % p.groups || p.K % p.groups) ff_fail("RUNTIME", "groups must divide C and K");
  p.OH = (p.H + 2 * p.pad - p.dilation * (p.R - 1) - 1) / p.stride + 1;
  p.OW = (p.W + 2 * p.pad - p.dilation * (p.S - 1) - 1) / p.stride + 1;
  if (p.OH < 1 || p.OW < 1) ff_fail("RUNTIME", "empty convolution output");
  return p;
}

static inline ff_check ff_check_conv2d(const ff_conv2d* p, const ff_options* o, const float* in, const float* wt, const float* out) {
  ff_check c = { 0, 0 };
  long cg = p->C / p->groups, kg = p->K / p->groups;
  for (int s = 0; s < o->samples; ++s) {
    long idx = ff_sample(s, p->N * p->K * p->OH * p->OW);
    long w = idx % p->OW, h = idx / p->OW % p->OH, k = idx / (p->OW * p->OH) % p->K, n = idx / (p->OW * p->OH * p->K);
    double sum = 0;
    for (long ci = 0; ci < cg; ++ci) {
      long ch = k / kg * cg + ci;
      for (long r = 0; r < p->R; ++r) {
        long y = h * p->stride + r * p->dilation - p->pad;
        if (y < 0 || y >= p->H) continue;
        for (long q = 0; q < p->S; ++q) {
          long x = w * p->stride + q * p->dilation - p->pad;
          if (x < 0 || x >= p->W) continue;
          sum += (double)in[((n * p->C + ch) * p->H + y) * p->W + x] * (double)wt[((k * cg + ci) * p->R + r) * p->S + q];
        }
      }
    }
    ff_expect(&c, o, idx, out[idx], sum);
  }
  return c;
}

#endif
