// The host main() compiled with every CUDA kernel. It speaks the harness protocol of the CPU
// backend (agent/backends/cpu/harness.ts): the same flags, one JSON line, exit 3 on a wrong
// answer. Inputs are filled on the host with the shared deterministic values and copied over; the
// output starts as NaN so an element the kernel never writes fails the check. Timing uses CUDA
// events around `number` back-to-back launches (TVM's protocol). A CUDA error is reported as
// RUNTIME (illegal address, launch failure: this process dies, the agent goes on) or as
// DEVICE_LOST when the device itself cannot be used.
import type { ComputeDef } from '../../../tensor/compute.ts';
import { INPUT_VALUE_C, tolerance } from '../../../tensor/data.ts';
import { HARNESS_EXIT } from '../cpu/harness.ts';
import type { LaunchShape } from './cuda-renderer.ts';

export const CUDA_HARNESS_EXIT = { ...HARNESS_EXIT, DEVICE_LOST: 5, CUDA_ERROR: 6 } as const;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * `hostReference`: the name of a host function computing the same output on the CPU. The GPU's
 * result must then match it, and it is what --write writes (the unscheduled reference program).
 */
export function renderCudaHarness(def: ComputeDef, kernelName: string, launch: LaunchShape, hostReference?: string): string {
  const tensors = [...def.inputs, def.output];
  const out = def.output.name, outSize = `${size(def.output.shape)}L`;
  const hostAlloc = tensors.map((t) => `  float* h_${t.name} = ff_host_alloc(${size(t.shape)}L);`);
  const fill = def.inputs.map((t, i) => `  for (long i = 0; i < ${size(t.shape)}L; ++i) h_${t.name}[i] = ff_input_value(${i}, i);`);
  const devAlloc = tensors.map((t) => `  float* d_${t.name} = ff_device_alloc(${size(t.shape)}L);`);
  const upload = def.inputs.map((t) => `  FF_CHECK(cudaMemcpy(d_${t.name}, h_${t.name}, ${size(t.shape)}L * sizeof(float), cudaMemcpyHostToDevice), "cannot copy input ${t.name} to the GPU");`);
  const [gx, gy, gz] = launch.grid, [bx, by, bz] = launch.block;
  const args = tensors.map((t) => `d_${t.name}`).join(', ');
  const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
  const hostCheck = hostReference ? `
  /* The same nest on the host CPU: the GPU's result must match it, and it is the output written. */
  {
    float* host_out = ff_host_alloc(${outSize});
    for (long i = 0; i < ${outSize}; ++i) host_out[i] = NAN;
    ${hostReference}(${tensors.map((t, i) => (i < def.inputs.length ? `h_${t.name}` : 'host_out')).join(', ')});
    for (long i = 0; i < ${outSize}; ++i) {
      double err = fabs((double)h_${out}[i] - (double)host_out[i]);
      if (!(err <= ${atol} + ${rtol} * fabs((double)host_out[i]))) {
        printf("{\\"ok\\":false,\\"code\\":\\"WRONG_ANSWER\\",\\"message\\":\\"the unscheduled kernel gives %g on the GPU and %g on the host CPU at output element %ld\\"}\\n",
               (double)h_${out}[i], (double)host_out[i], i);
        return ${CUDA_HARNESS_EXIT.WRONG_ANSWER};
      }
    }
    memcpy(h_${out}, host_out, (size_t)${outSize} * sizeof(float));
    free(host_out);
  }
` : '';
  return `
/* ---- harness: inputs, correctness check, timing with CUDA events (TVM protocol) ---- */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

${INPUT_VALUE_C}

/* Errors that say the device cannot be used at all, rather than that this kernel failed. */
static int ff_device_error(cudaError_t e) {
  return e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver || e == cudaErrorDevicesUnavailable
      || e == cudaErrorInitializationError || e == cudaErrorSystemNotReady || e == cudaErrorSystemDriverMismatch
      || e == cudaErrorInvalidDevice || e == cudaErrorDeviceUninitialized || e == cudaErrorCompatNotSupportedOnDevice;
}

static void ff_fail(const char* what, cudaError_t e) {
  int lost = ff_device_error(e);
  printf("{\\"ok\\":false,\\"code\\":\\"%s\\",\\"message\\":\\"%s: %s (%s)\\"}\\n",
         lost ? "DEVICE_LOST" : "RUNTIME", what, cudaGetErrorName(e), cudaGetErrorString(e));
  fflush(stdout);
  exit(lost ? ${CUDA_HARNESS_EXIT.DEVICE_LOST} : ${CUDA_HARNESS_EXIT.CUDA_ERROR});
}
#define FF_CHECK(call, what) do { cudaError_t ff_e = (call); if (ff_e != cudaSuccess) ff_fail(what, ff_e); } while (0)

static float* ff_host_alloc(long n) {
  float* p = (float*)malloc((size_t)n * sizeof(float) + 64);
  if (!p) {
    printf("{\\"ok\\":false,\\"code\\":\\"RUNTIME\\",\\"message\\":\\"cannot allocate %ld floats on the host\\"}\\n", n);
    exit(${CUDA_HARNESS_EXIT.NO_MEMORY});
  }
  return p;
}

static float* ff_device_alloc(long n) {
  void* p = NULL;
  FF_CHECK(cudaMalloc(&p, (size_t)n * sizeof(float)), "cannot allocate GPU memory");
  return (float*)p;
}

static void ff_launch(${tensors.map((t, i) => `${i < def.inputs.length ? 'const ' : ''}float* ${t.name}`).join(', ')}) {
  ${kernelName}<<<dim3(${gx}, ${gy}, ${gz}), dim3(${bx}, ${by}, ${bz})>>>(${tensors.map((t) => t.name).join(', ')});
}

/* Seconds per launch over \`number\` back-to-back launches, between two CUDA events. */
static double ff_time(long number, ${tensors.map((t, i) => `${i < def.inputs.length ? 'const ' : ''}float* ${t.name}`).join(', ')}) {
  cudaEvent_t start, stop;
  FF_CHECK(cudaEventCreate(&start), "cannot create a CUDA event");
  FF_CHECK(cudaEventCreate(&stop), "cannot create a CUDA event");
  FF_CHECK(cudaEventRecord(start), "cannot record a CUDA event");
  for (long j = 0; j < number; ++j) ff_launch(${tensors.map((t) => t.name).join(', ')});
  FF_CHECK(cudaGetLastError(), "kernel launch failed");
  FF_CHECK(cudaEventRecord(stop), "cannot record a CUDA event");
  FF_CHECK(cudaEventSynchronize(stop), "kernel failed");
  float ms = 0;
  FF_CHECK(cudaEventElapsedTime(&ms, start, stop), "cannot read CUDA event time");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return (double)ms / 1000.0 / (double)number;
}

int main(int argc, char** argv) {
  const char* ref_path = NULL; const char* write_path = NULL;
  double atol = 1e-5, rtol = 1e-4, min_repeat_ms = 50; int repeat = 3, timing = 1;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--ref") && i + 1 < argc) ref_path = argv[++i];
    else if (!strcmp(argv[i], "--write") && i + 1 < argc) write_path = argv[++i];
    else if (!strcmp(argv[i], "--atol") && i + 1 < argc) atol = atof(argv[++i]);
    else if (!strcmp(argv[i], "--rtol") && i + 1 < argc) rtol = atof(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-repeat-ms") && i + 1 < argc) min_repeat_ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--max-ms") && i + 1 < argc) ++i; /* wall-clock budget of the CPU harness; CUDA-event timing does not need it */
    else if (!strcmp(argv[i], "--no-time")) timing = 0;
    else { fprintf(stderr, "usage: %s [--ref F] [--write F] [--atol X] [--rtol X] [--repeat N] [--min-repeat-ms MS] [--max-ms MS] [--no-time]\\n", argv[0]); return ${CUDA_HARNESS_EXIT.USAGE}; }
  }
  if (repeat < 1) repeat = 1;
  /* The device is chosen by CUDA_VISIBLE_DEVICES (the agent's --gpu-index): it is device 0 here. */
  FF_CHECK(cudaSetDevice(0), "cannot select the GPU");
  FF_CHECK(cudaFree(0), "cannot initialise the GPU");
${hostAlloc.join('\n')}
${fill.join('\n')}
${devAlloc.join('\n')}
${upload.join('\n')}
  /* NaN everywhere first (all bits set), so an element the kernel never writes fails the check. */
  FF_CHECK(cudaMemset(d_${out}, 0xFF, (size_t)${outSize} * sizeof(float)), "cannot clear the output");

  /* warm-up run, also the one checked */
  ff_launch(${args});
  FF_CHECK(cudaGetLastError(), "kernel launch failed");
  FF_CHECK(cudaDeviceSynchronize(), "kernel failed");
  FF_CHECK(cudaMemcpy(h_${out}, d_${out}, (size_t)${outSize} * sizeof(float), cudaMemcpyDeviceToHost), "cannot copy the output back");
${hostCheck}
  double max_err = 0;
  if (ref_path) {
    float* ref = ff_host_alloc(${outSize});
    FILE* f = fopen(ref_path, "rb");
    if (!f || fread(ref, sizeof(float), (size_t)${outSize}, f) != (size_t)${outSize}) {
      printf("{\\"ok\\":false,\\"code\\":\\"RUNTIME\\",\\"message\\":\\"cannot read reference output %s\\"}\\n", ref_path);
      return 1;
    }
    fclose(f);
    for (long i = 0; i < ${outSize}; ++i) {
      double err = fabs((double)h_${out}[i] - (double)ref[i]);
      if (!(err <= atol + rtol * fabs((double)ref[i]))) {
        printf("{\\"ok\\":false,\\"code\\":\\"WRONG_ANSWER\\",\\"message\\":\\"output element %ld is %g, reference %g (tolerance %g + %g*|ref|)\\"}\\n",
               i, (double)h_${out}[i], (double)ref[i], atol, rtol);
        return ${CUDA_HARNESS_EXIT.WRONG_ANSWER};
      }
      if (err > max_err) max_err = err;
    }
  }
  if (write_path) {
    FILE* f = fopen(write_path, "wb");
    if (!f || fwrite(h_${out}, sizeof(float), (size_t)${outSize}, f) != (size_t)${outSize}) {
      printf("{\\"ok\\":false,\\"code\\":\\"RUNTIME\\",\\"message\\":\\"cannot write output %s\\"}\\n", write_path);
      return 1;
    }
    fclose(f);
  }

  /* number: raised until one repeat lasts min_repeat_ms; calibration passes are discarded and go
   * on until two agree within 15% (clocks ramp up over the first launches). */
  long number = 1;
  double previous = 0;
  for (int pass = 0; timing && pass < 6; ++pass) {
    double want = min_repeat_ms / 1000.0, per_run = 0;
    for (;;) {
      per_run = ff_time(number, ${args});
      double took = per_run * (double)number;
      if (took >= want || number >= 1000000) break;
      long next = took > 0 ? (long)ceil(number * want / took * 1.1) : number * 10;
      number = next > number * 10 ? number * 10 : (next > number ? next : number + 1);
    }
    if (pass > 0 && fabs(per_run - previous) <= 0.15 * per_run) break;
    previous = per_run;
  }
  double* seconds = (double*)malloc(sizeof(double) * (size_t)repeat);
  for (int r = 0; timing && r < repeat; ++r) seconds[r] = ff_time(number, ${args});
  printf("{\\"ok\\":true,\\"maxAbsErr\\":%g,\\"number\\":%ld,\\"seconds\\":[", max_err, timing ? number : 0);
  for (int r = 0; timing && r < repeat; ++r) printf("%s%.9g", r ? "," : "", seconds[r]);
  printf("]}\\n");
  return 0;
}
`;
}
