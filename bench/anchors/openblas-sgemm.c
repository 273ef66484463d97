/* Anchor: OpenBLAS cblas_sgemm, C[M,N] = A[M,K] * B[K,N], row-major like flexfarm's gemm.
 * Threads: OPENBLAS_NUM_THREADS; core: OPENBLAS_CORETYPE (both set by the driver). */
#include <cblas.h>

#include "naive-checks.h"

typedef struct { ff_gemm g; float *A, *B, *C; } ctx_t;

static void run(void* p) {
  ctx_t* c = (ctx_t*)p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->g.M, (int)c->g.N, (int)c->g.K,
              1.0f, c->A, (int)c->g.K, c->B, (int)c->g.N, 0.0f, c->C, (int)c->g.N);
}

int main(int argc, char** argv) {
  ff_options o = ff_parse(argc, argv);
  ctx_t c = { ff_gemm_shape(&o), NULL, NULL, NULL };
  c.A = ff_alloc(c.g.M * c.g.K); c.B = ff_alloc(c.g.K * c.g.N); c.C = ff_alloc(c.g.M * c.g.N);
  ff_fill(c.A, c.g.M * c.g.K, 0);
  ff_fill(c.B, c.g.K * c.g.N, 1);
  for (long i = 0; i < c.g.M * c.g.N; ++i) c.C[i] = NAN;

  run(&c); /* warm-up, checked */
  ff_check check = ff_check_gemm(&c.g, &o, c.A, c.B, c.C);
  ff_timing t = ff_time(run, &c, &o);

  char library[128], detail[160];
  snprintf(library, sizeof library, "OpenBLAS cblas_sgemm (core %s)", openblas_get_corename());
  snprintf(detail, sizeof detail, "%d threads; %s", openblas_get_num_threads(), openblas_get_config());
  for (char* s = detail; *s; ++s) if (*s == '"' || *s == '\\') *s = ' ';
  ff_anchor_report(library, detail, &check, &t);
  return 0;
}
