/* Anchor: oneDNN forward-inference convolution (no bias) on flexfarm's conv2d shape.
 * Layouts are `any`: oneDNN picks its preferred (blocked) layouts for source, weights and
 * destination. The NCHW / OIHW inputs are reordered into those layouts once, outside the timed
 * region; only the convolution primitive is timed, and its output stays in oneDNN's layout
 * (reordered back to NCHW, untimed, for the check). Threads: OMP_NUM_THREADS. */
#include <dnnl.h>
#include <dnnl_debug.h>

#include "naive-checks.h"

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

typedef struct { dnnl_primitive_t conv; dnnl_stream_t stream; dnnl_exec_arg_t args[3]; } ctx_t;

static void run(void* p) {
  ctx_t* c = (ctx_t*)p;
  CHECK(dnnl_primitive_execute(c->conv, c->stream, 3, c->args));
  CHECK(dnnl_stream_wait(c->stream));
}

/* Copy `from` into `to` (different layouts of the same tensor) with a oneDNN reorder. */
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

/* A oneDNN-owned memory of `md`, or one over the caller's buffer `data`. */
static dnnl_memory_t memory(dnnl_engine_t eng, const dnnl_memory_desc_t* md, void* data) {
  dnnl_memory_t m;
  CHECK(dnnl_memory_create(&m, md, eng, data ? data : DNNL_MEMORY_ALLOCATE));
  return m;
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
  ff_conv2d p = ff_conv2d_shape(&o);
  long nI = p.N * p.C * p.H * p.W, nW = p.K * (p.C / p.groups) * p.R * p.S, nO = p.N * p.K * p.OH * p.OW;
  float *in = ff_alloc(nI), *wt = ff_alloc(nW), *out = ff_alloc(nO);
  ff_fill(in, nI, 0);
  ff_fill(wt, nW, 1);
  for (long i = 0; i < nO; ++i) out[i] = NAN;

  dnnl_engine_t eng;
  dnnl_stream_t stream;
  CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  CHECK(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));

  dnnl_dims_t src_dims = { p.N, p.C, p.H, p.W }, dst_dims = { p.N, p.K, p.OH, p.OW };
  dnnl_dims_t w_dims = { p.K, p.C, p.R, p.S }, gw_dims = { p.groups, p.K / p.groups, p.C / p.groups, p.R, p.S };
  int grouped = p.groups > 1;
  dnnl_memory_desc_t src_plain, w_plain, dst_plain, src_any, w_any, dst_any;
  CHECK(dnnl_memory_desc_init_by_tag(&src_plain, 4, src_dims, dnnl_f32, dnnl_nchw));
  CHECK(dnnl_memory_desc_init_by_tag(&dst_plain, 4, dst_dims, dnnl_f32, dnnl_nchw));
  CHECK(dnnl_memory_desc_init_by_tag(&w_plain, grouped ? 5 : 4, grouped ? gw_dims : w_dims, dnnl_f32, grouped ? dnnl_goihw : dnnl_oihw));
  CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&w_any, grouped ? 5 : 4, grouped ? gw_dims : w_dims, dnnl_f32, dnnl_format_tag_any));

  dnnl_dims_t strides = { p.stride, p.stride }, dilates = { p.dilation - 1, p.dilation - 1 };
  /* Right padding as oneDNN wants it: what the last window reads beyond the input. */
  dnnl_dims_t pad_l = { p.pad, p.pad };
  dnnl_dims_t pad_r = { (p.OH - 1) * p.stride + (p.R - 1) * p.dilation - p.H + 1 - p.pad,
                        (p.OW - 1) * p.stride + (p.S - 1) * p.dilation - p.W + 1 - p.pad };
  dnnl_convolution_desc_t desc;
  CHECK(dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                   &src_any, &w_any, NULL, &dst_any, strides, dilates, pad_l, pad_r));
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL));
  const dnnl_memory_desc_t* src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t* w_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t* dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);

  /* Untimed: inputs into oneDNN's chosen layouts. */
  ctx_t c;
  c.stream = stream;
  CHECK(dnnl_primitive_create(&c.conv, pd));
  dnnl_memory_t src = memory(eng, src_md, NULL), weights = memory(eng, w_md, NULL), dst = memory(eng, dst_md, NULL);
  dnnl_memory_t plain_in = memory(eng, &src_plain, in), plain_w = memory(eng, &w_plain, wt), plain_out = memory(eng, &dst_plain, out);
  reorder(eng, stream, plain_in, src);
  reorder(eng, stream, plain_w, weights);
  c.args[0] = (dnnl_exec_arg_t){ DNNL_ARG_SRC, src };
  c.args[1] = (dnnl_exec_arg_t){ DNNL_ARG_WEIGHTS, weights };
  c.args[2] = (dnnl_exec_arg_t){ DNNL_ARG_DST, dst };

  run(&c); /* warm-up, checked after an untimed reorder back to NCHW */
  reorder(eng, stream, dst, plain_out);
  ff_check check = ff_check_conv2d(&p, &o, in, wt, out);
  ff_timing t = ff_time(run, &c, &o);

  const char* impl = "?";
  CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
  char ls[32], lw[32], ld[32], library[128], detail[256];
  describe_layout(src_md, ls, sizeof ls);
  describe_layout(w_md, lw, sizeof lw);
  describe_layout(dst_md, ld, sizeof ld);
  const dnnl_version_t* v = dnnl_version();
  snprintf(library, sizeof library, "oneDNN %d.%d.%d convolution", v->major, v->minor, v->patch);
  snprintf(detail, sizeof detail, "impl %s, ISA %s; layouts src %s weights %s dst %s (reorders untimed)",
           impl, dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()), ls, lw, ld);
  ff_report(library, detail, &check, &t, o.repeat);
  return 0;
}
