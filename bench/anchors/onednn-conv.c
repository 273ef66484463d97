/* Anchor: oneDNN forward-inference convolution or deconvolution (no bias) in 1-D, 2-D or 3-D,
 * with groups (depthwise: groups = C), stride, padding and dilation: every convolution family of
 * flexfarm in one program. The driver passes the shape generically (anchors.ts convArgs):
 *   rank=1|2|3 transposed=0|1 N C K groups stride pad dilation X0.. (input extents) R0.. (taps)
 *   S0.. P0.. (per-axis strides and pads, default stride and pad)
 * Layouts: flexfarm's I[N,C,X..], O[N,K,Y..]; weights W[K,C/groups,R..] (convolution),
 * W[C,K,R..] (transposed, groups 1). oneDNN runs in the
 * layouts it prefers (`any`); reorders into them and back are untimed, only the primitive is
 * timed. Threads: OMP_NUM_THREADS. */
#include <dnnl.h>
#include <dnnl_debug.h>

#include "anchor-common.h"

#define CHECK(call)                                                                 \
  do {                                                                              \
    dnnl_status_t s_ = (call);                                                      \
    if (s_ != dnnl_success) {                                                       \
      char m_[200];                                                                 \
      snprintf(m_, sizeof m_, "%s failed: %s", #call, dnnl_status2str(s_));         \
      for (char* c_ = m_; *c_; ++c_) if (*c_ == '"' || *c_ == '\\') *c_ = '\'';     \
      ff_fail("RUNTIME", m_);                                                       \
    }                                                                               \
  } while (0)

/* S, P: each axis's stride and pad (S0.., P0.., default stride and pad). */
typedef struct { long rank, transposed, N, C, K, groups, stride, pad, dilation, X[3], R[3], Y[3], S[3], P[3]; } shape_t;

static shape_t parse_shape(const ff_options* o) {
  static const char* xs[3] = { "X0", "X1", "X2" };
  static const char* rs[3] = { "R0", "R1", "R2" };
  static const char* ss[3] = { "S0", "S1", "S2" };
  static const char* ps[3] = { "P0", "P1", "P2" };
  shape_t p;
  p.rank = ff_param(o, "rank", -1); p.transposed = ff_param(o, "transposed", 0);
  p.N = ff_param(o, "N", -1); p.C = ff_param(o, "C", -1); p.K = ff_param(o, "K", -1);
  p.groups = ff_param(o, "groups", 1); p.stride = ff_param(o, "stride", 1);
  p.pad = ff_param(o, "pad", 0); p.dilation = ff_param(o, "dilation", 1);
  if (p.rank < 1 || p.rank > 3) ff_fail("RUNTIME", "rank must be 1, 2 or 3");
  if (p.groups < 1 || p.C % p.groups || p.K % p.groups) ff_fail("RUNTIME", "groups must divide C and K");
  if (p.transposed && p.groups != 1) ff_fail("RUNTIME", "transposed convolution with groups is not supported");
  for (int d = 0; d < p.rank; ++d) {
    p.X[d] = ff_param(o, xs[d], -1); p.R[d] = ff_param(o, rs[d], -1);
    p.S[d] = ff_param(o, ss[d], p.stride); p.P[d] = ff_param(o, ps[d], p.pad);
    if (p.S[d] < 1 || p.P[d] < 0) ff_fail("RUNTIME", "strides must be >= 1 and pads >= 0");
    p.Y[d] = p.transposed ? (p.X[d] - 1) * p.S[d] - 2 * p.P[d] + p.dilation * (p.R[d] - 1) + 1
                          : (p.X[d] + 2 * p.P[d] - p.dilation * (p.R[d] - 1) - 1) / p.S[d] + 1;
    if (p.X[d] < 1 || p.R[d] < 1 || p.Y[d] < 1) ff_fail("RUNTIME", "empty convolution");
  }
  return p;
}

static long volume(const long* x, long n) { long v = 1; for (long i = 0; i < n; ++i) v *= x[i]; return v; }

/* Output element `idx` as a naive double-precision sum over flexfarm's layouts. */
static double naive(const shape_t* p, const float* in, const float* wt, long idx) {
  long y[3], rest = idx;
  for (long d = p->rank - 1; d >= 0; --d) { y[d] = rest % p->Y[d]; rest /= p->Y[d]; }
  const long k = rest % p->K, n = rest / p->K;
  const long cg = p->C / p->groups, kg = p->K / p->groups, taps = volume(p->R, p->rank);
  double sum = 0;
  for (long ci = 0; ci < cg; ++ci) {
    const long c = k / kg * cg + ci;
    for (long t = 0; t < taps; ++t) {
      long r[3], tr = t, at = n * p->C + c, ok = 1;
      for (long d = p->rank - 1; d >= 0; --d) { r[d] = tr % p->R[d]; tr /= p->R[d]; }
      for (long d = 0; d < p->rank && ok; ++d) {
        long x;
        if (p->transposed) {
          const long q = y[d] + p->P[d] - r[d] * p->dilation;
          ok = q >= 0 && q % p->S[d] == 0 && q / p->S[d] < p->X[d];
          x = q / p->S[d];
        } else {
          x = y[d] * p->S[d] + r[d] * p->dilation - p->P[d];
          ok = x >= 0 && x < p->X[d];
        }
        at = at * p->X[d] + x;
      }
      if (!ok) continue;
      const long w = p->transposed ? (c * p->K + k) * taps + t : (k * cg + ci) * taps + t;
      sum += (double)in[at] * (double)wt[w];
    }
  }
  return sum;
}

typedef struct { dnnl_primitive_t prim; dnnl_stream_t stream; dnnl_exec_arg_t args[3]; } ctx_t;

static void run(void* ctx) {
  ctx_t* c = (ctx_t*)ctx;
  CHECK(dnnl_primitive_execute(c->prim, c->stream, 3, c->args));
  CHECK(dnnl_stream_wait(c->stream));
}

static void reorder(dnnl_engine_t eng, dnnl_stream_t stream, dnnl_memory_t from, dnnl_memory_t to) {
  const dnnl_memory_desc_t *from_md, *to_md;
  CHECK(dnnl_memory_get_memory_desc(from, &from_md));
  CHECK(dnnl_memory_get_memory_desc(to, &to_md));
  dnnl_primitive_desc_t rpd;
  dnnl_primitive_t prim;
  CHECK(dnnl_reorder_primitive_desc_create(&rpd, from_md, eng, to_md, eng, NULL));
  CHECK(dnnl_primitive_create(&prim, rpd));
  dnnl_exec_arg_t args[2] = { { DNNL_ARG_FROM, from }, { DNNL_ARG_TO, to } };
  CHECK(dnnl_primitive_execute(prim, stream, 2, args));
  CHECK(dnnl_stream_wait(stream));
  dnnl_primitive_destroy(prim);
  dnnl_primitive_desc_destroy(rpd);
}

static dnnl_memory_t memory(dnnl_engine_t eng, const dnnl_memory_desc_t* md, void* data) {
  dnnl_memory_t m;
  CHECK(dnnl_memory_create(&m, md, eng, data ? data : DNNL_MEMORY_ALLOCATE));
  return m;
}

/* A plain row-major descriptor of `dims`, with the first two dims' strides swapped when `swap`
 * (transposed weights: flexfarm stores [C, K, ...], oneDNN's dims are [K, C, ...]). */
static void plain(dnnl_memory_desc_t* md, int ndims, const dnnl_dims_t dims, int swap) {
  dnnl_dims_t strides;
  long s = 1;
  int order[DNNL_MAX_NDIMS];
  for (int i = 0; i < ndims; ++i) order[i] = i;
  if (swap) { order[0] = 1; order[1] = 0; }
  for (int i = ndims - 1; i >= 0; --i) { strides[order[i]] = s; s *= dims[order[i]]; }
  CHECK(dnnl_memory_desc_init_by_strides(md, ndims, dims, dnnl_f32, strides));
}

/* oneDNN's tag notation for a blocked layout: dims a,b,c,... from outermost stride to innermost,
 * upper case when the dim is also blocked, then the inner blocks (e.g. aBcd16b for nChw16c). */
static void describe_layout(const dnnl_memory_desc_t* md, char* out, size_t size) {
  if (md->format_kind != dnnl_blocked) { snprintf(out, size, "%s", dnnl_fmt_kind2str(md->format_kind)); return; }
  const dnnl_blocking_desc_t* b = &md->format_desc.blocking;
  int order[DNNL_MAX_NDIMS];
  for (int i = 0; i < md->ndims; ++i) order[i] = i;
  for (int i = 0; i < md->ndims; ++i)
    for (int j = i + 1; j < md->ndims; ++j)
      if (b->strides[order[j]] > b->strides[order[i]]) { int t = order[i]; order[i] = order[j]; order[j] = t; }
  size_t n = 0;
  for (int i = 0; i < md->ndims && n + 1 < size; ++i) {
    int blocked = 0;
    for (int k = 0; k < b->inner_nblks; ++k) blocked |= b->inner_idxs[k] == order[i];
    out[n++] = (char)((blocked ? 'A' : 'a') + order[i]);
  }
  out[n] = 0;
  for (int k = 0; k < b->inner_nblks && n + 8 < size; ++k)
    n += (size_t)snprintf(out + n, size - n, "%ld%c", (long)b->inner_blks[k], (char)('a' + b->inner_idxs[k]));
}

int main(int argc, char** argv) {
  ff_options o = ff_parse(argc, argv);
  shape_t p = parse_shape(&o);
  const int nd = (int)p.rank + 2, grouped = p.groups > 1;
  const long taps = volume(p.R, p.rank);
  const long nI = p.N * p.C * volume(p.X, p.rank), nO = p.N * p.K * volume(p.Y, p.rank), nW = p.K * (p.C / p.groups) * taps;
  float *in = ff_alloc(nI), *wt = ff_alloc(nW), *out = ff_alloc(nO);
  ff_fill(in, nI, 0);
  ff_fill(wt, nW, 1);
  for (long i = 0; i < nO; ++i) out[i] = NAN;

  dnnl_engine_t eng;
  dnnl_stream_t stream;
  CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  CHECK(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));

  dnnl_dims_t src_dims = { p.N, p.C }, dst_dims = { p.N, p.K }, w_dims, strides, dilates, pad_l, pad_r;
  int wd = 0;
  if (grouped) { w_dims[wd++] = p.groups; }
  w_dims[wd++] = p.K / p.groups;
  w_dims[wd++] = p.C / p.groups;
  for (int d = 0; d < p.rank; ++d) {
    src_dims[2 + d] = p.X[d]; dst_dims[2 + d] = p.Y[d]; w_dims[wd++] = p.R[d];
    strides[d] = p.S[d]; dilates[d] = p.dilation - 1; pad_l[d] = p.P[d];
    /* Right padding as oneDNN wants it: what the last window reads beyond the input. */
    pad_r[d] = p.transposed ? p.P[d] : (p.Y[d] - 1) * p.S[d] + (p.R[d] - 1) * p.dilation - p.X[d] + 1 - p.P[d];
  }
  dnnl_memory_desc_t src_plain, w_plain, dst_plain, src_any, w_any, dst_any;
  plain(&src_plain, nd, src_dims, 0);
  plain(&dst_plain, nd, dst_dims, 0);
  plain(&w_plain, wd, w_dims, p.transposed);
  CHECK(dnnl_memory_desc_init_by_tag(&src_any, nd, src_dims, dnnl_f32, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&dst_any, nd, dst_dims, dnnl_f32, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&w_any, wd, w_dims, dnnl_f32, dnnl_format_tag_any));

  dnnl_primitive_desc_t pd;
  if (p.transposed) {
    dnnl_deconvolution_desc_t desc;
    CHECK(dnnl_dilated_deconvolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_deconvolution_direct,
                                                       &src_any, &w_any, NULL, &dst_any, strides, dilates, pad_l, pad_r));
    CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL));
  } else {
    dnnl_convolution_desc_t desc;
    CHECK(dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                     &src_any, &w_any, NULL, &dst_any, strides, dilates, pad_l, pad_r));
    CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL));
  }
  const dnnl_memory_desc_t* src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t* w_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t* dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);

  ctx_t c;
  c.stream = stream;
  CHECK(dnnl_primitive_create(&c.prim, pd));
  dnnl_memory_t src = memory(eng, src_md, NULL), weights = memory(eng, w_md, NULL), dst = memory(eng, dst_md, NULL);
  dnnl_memory_t plain_in = memory(eng, &src_plain, in), plain_w = memory(eng, &w_plain, wt), plain_out = memory(eng, &dst_plain, out);
  reorder(eng, stream, plain_in, src);   /* untimed: inputs into oneDNN's layouts */
  reorder(eng, stream, plain_w, weights);
  c.args[0] = (dnnl_exec_arg_t){ DNNL_ARG_SRC, src };
  c.args[1] = (dnnl_exec_arg_t){ DNNL_ARG_WEIGHTS, weights };
  c.args[2] = (dnnl_exec_arg_t){ DNNL_ARG_DST, dst };

  run(&c);                               /* warm-up, checked after an untimed reorder back */
  reorder(eng, stream, dst, plain_out);
  ff_check check = { 0, 0 };
  for (int s = 0; s < o.samples; ++s) {
    const long idx = ff_sample(s, nO);
    ff_expect(&check, &o, idx, out[idx], naive(&p, in, wt, idx));
  }
  ff_timing t = ff_time(run, &c, &o);

  const char* impl = "?";
  CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
  char ls[32], lw[32], ld[32], library[128], detail[256];
  describe_layout(src_md, ls, sizeof ls);
  describe_layout(w_md, lw, sizeof lw);
  describe_layout(dst_md, ld, sizeof ld);
  const dnnl_version_t* v = dnnl_version();
  snprintf(library, sizeof library, "oneDNN %d.%d.%d %s", v->major, v->minor, v->patch, p.transposed ? "deconvolution" : "convolution");
  snprintf(detail, sizeof detail, "impl %s, ISA %s, %ld-D%s; layouts src %s weights %s dst %s (reorders untimed)",
           impl, dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()), p.rank, grouped ? ", grouped" : "", ls, lw, ld);
  ff_anchor_report(library, detail, &check, &t);
  return 0;
}
