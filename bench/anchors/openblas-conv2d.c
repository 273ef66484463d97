/* Anchor: convolution as im2col + OpenBLAS sgemm (Caffe's method), NCHW in and out.
 * Timed: the im2col copy and one sgemm per image and group, O[k, oh*ow] = W[k, c*r*s] x col. */
#include <cblas.h>

#include "naive-checks.h"

typedef struct { ff_conv2d p; float *in, *wt, *out, *col; } ctx_t;

/* col[(c*R + r)*S + s][h*OW + w] = I[n, c, h*stride + r*dilation - pad, w*stride + s*dilation - pad], 0 outside. */
static void im2col(const ff_conv2d* p, const float* image, float* col) {
  long plane = p->OH * p->OW;
  for (long c = 0; c < p->C; ++c)
    for (long r = 0; r < p->R; ++r)
      for (long s = 0; s < p->S; ++s) {
        float* row = col + ((c * p->R + r) * p->S + s) * plane;
        for (long h = 0; h < p->OH; ++h) {
          long y = h * p->stride + r * p->dilation - p->pad;
          for (long w = 0; w < p->OW; ++w) {
            long x = w * p->stride + s * p->dilation - p->pad;
            row[h * p->OW + w] = (y >= 0 && y < p->H && x >= 0 && x < p->W) ? image[(c * p->H + y) * p->W + x] : 0.0f;
          }
        }
      }
}

static void run(void* ctx) {
  ctx_t* c = (ctx_t*)ctx;
  const ff_conv2d* p = &c->p;
  long cg = p->C / p->groups, kg = p->K / p->groups, plane = p->OH * p->OW, depth = cg * p->R * p->S;
  for (long n = 0; n < p->N; ++n) {
    im2col(p, c->in + n * p->C * p->H * p->W, c->col);
    for (long g = 0; g < p->groups; ++g)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)kg, (int)plane, (int)depth, 1.0f,
                  c->wt + g * kg * depth, (int)depth, c->col + g * depth * plane, (int)plane, 0.0f,
                  c->out + (n * p->K + g * kg) * plane, (int)plane);
  }
}

int main(int argc, char** argv) {
  ff_options o = ff_parse(argc, argv);
  ctx_t c = { ff_conv2d_shape(&o), NULL, NULL, NULL, NULL };
  const ff_conv2d* p = &c.p;
  long nI = p->N * p->C * p->H * p->W, nW = p->K * (p->C / p->groups) * p->R * p->S, nO = p->N * p->K * p->OH * p->OW;
  c.in = ff_alloc(nI); c.wt = ff_alloc(nW); c.out = ff_alloc(nO);
  c.col = ff_alloc(p->C * p->R * p->S * p->OH * p->OW);
  ff_fill(c.in, nI, 0);
  ff_fill(c.wt, nW, 1);
  for (long i = 0; i < nO; ++i) c.out[i] = NAN;

  run(&c); /* warm-up, checked */
  ff_check check = ff_check_conv2d(p, &o, c.in, c.wt, c.out);
  ff_timing t = ff_time(run, &c, &o);

  char library[128], detail[160];
  snprintf(library, sizeof library, "OpenBLAS im2col+sgemm (core %s)", openblas_get_corename());
  snprintf(detail, sizeof detail, "%d threads; im2col (single-threaded) inside the timed region", openblas_get_num_threads());
  ff_anchor_report(library, detail, &check, &t);
  return 0;
}
