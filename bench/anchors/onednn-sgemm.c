/* Anchor: oneDNN dnnl_sgemm (row-major), C[M,N] = A[M,K] * B[K,N]. Threads: OMP_NUM_THREADS. */
#include <dnnl.h>
#include <dnnl_debug.h>

#include "naive-checks.h"

typedef struct { ff_gemm g; float *A, *B, *C; dnnl_status_t status; } ctx_t;

static void run(void* p) {
  ctx_t* c = (ctx_t*)p;
  dnnl_status_t s = dnnl_sgemm('N', 'N', c->g.M, c->g.N, c->g.K, 1.0f, c->A, c->g.K, c->B, c->g.N, 0.0f, c->C, c->g.N);
  if (s != dnnl_success) c->status = s;
}

int main(int argc, char** argv) {
  ff_options o = ff_parse(argc, argv);
  ctx_t c = { ff_gemm_shape(&o), NULL, NULL, NULL, dnnl_success };
  c.A = ff_alloc(c.g.M * c.g.K); c.B = ff_alloc(c.g.K * c.g.N); c.C = ff_alloc(c.g.M * c.g.N);
  ff_fill(c.A, c.g.M * c.g.K, 0);
  ff_fill(c.B, c.g.K * c.g.N, 1);
  for (long i = 0; i < c.g.M * c.g.N; ++i) c.C[i] = NAN;

  run(&c); /* warm-up, checked */
  if (c.status != dnnl_success) ff_fail("RUNTIME", dnnl_status2str(c.status));
  ff_check check = ff_check_gemm(&c.g, &o, c.A, c.B, c.C);
  ff_timing t = ff_time(run, &c, &o);
  if (c.status != dnnl_success) ff_fail("RUNTIME", dnnl_status2str(c.status));

  const dnnl_version_t* v = dnnl_version();
  char library[128], detail[160];
  snprintf(library, sizeof library, "oneDNN %d.%d.%d dnnl_sgemm", v->major, v->minor, v->patch);
  snprintf(detail, sizeof detail, "ISA %s, %s runtime", dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()), dnnl_runtime2str(v->cpu_runtime));
  ff_anchor_report(library, detail, &check, &t);
  return 0;
}
