// The host main() compiled with every CUDA kernel. It is the one C harness
// (contracts/c-harness/ff-harness.h: the CPU harness's flags, calibration policy, reference check
// and JSON line, exit 3 on a wrong answer) with a timer of its own: CUDA events around `number`
// back-to-back launches (TVM's protocol). Inputs are filled on the host with the shared
// deterministic values and copied over; the output starts as NaN so an element the kernel never
// writes fails the check. A CUDA error is reported as RUNTIME (illegal address, launch failure:
// this process dies, the agent goes on) or as DEVICE_LOST when the device itself cannot be used.
import { HARNESS_C, HARNESS_EXIT } from '../../../contracts/c-harness/harness-source.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { INPUT_VALUE_C, tolerance } from '../../../tensor/data.ts';
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
  const params = tensors.map((t, i) => `${i < def.inputs.length ? 'const ' : ''}float* ${t.name}`).join(', ');
  const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
  const hostCheck = hostReference ? `
  /* The same nest on the host CPU: the GPU's result must match it, and it is the output written. */
  {
    float* host_out = ff_host_alloc(${outSize});
    for (long i = 0; i < ${outSize}; ++i) host_out[i] = NAN;
    ${hostReference}(${tensors.map((t, i) => (i < def.inputs.length ? `h_${t.name}` : 'host_out')).join(', ')});
    double host_err = 0;
    long bad = ff_mismatch(h_${out}, host_out, ${outSize}, ${atol}, ${rtol}, &host_err);
    if (bad >= 0)
      ff_fail_json("WRONG_ANSWER", FF_EXIT_WRONG_ANSWER, "the unscheduled kernel gives %g on the GPU and %g on the host CPU at output element %ld",
                   (double)h_${out}[bad], (double)host_out[bad], bad);
    memcpy(h_${out}, host_out, (size_t)${outSize} * sizeof(float));
    free(host_out);
  }
` : '';
  return `
/* ---- harness: inputs, correctness check, timing with CUDA events (TVM protocol) ---- */
#include <cuda_runtime.h>
${HARNESS_C}
${INPUT_VALUE_C}

/* Errors that say the device cannot be used at all, rather than that this kernel failed. */
static int ff_device_error(cudaError_t e) {
  return e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver || e == cudaErrorDevicesUnavailable
      || e == cudaErrorInitializationError || e == cudaErrorSystemNotReady || e == cudaErrorSystemDriverMismatch
      || e == cudaErrorInvalidDevice || e == cudaErrorDeviceUninitialized || e == cudaErrorCompatNotSupportedOnDevice;
}

static void ff_fail(const char* what, cudaError_t e) {
  int lost = ff_device_error(e);
  ff_fail_json(lost ? "DEVICE_LOST" : "RUNTIME", lost ? ${CUDA_HARNESS_EXIT.DEVICE_LOST} : ${CUDA_HARNESS_EXIT.CUDA_ERROR},
               "%s: %s (%s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
}
#define FF_CHECK(call, what) do { cudaError_t ff_e = (call); if (ff_e != cudaSuccess) ff_fail(what, ff_e); } while (0)

static float* ff_host_alloc(long n) { return ff_alloc_or_fail(n, " on the host"); }

static float* ff_device_alloc(long n) {
  void* p = NULL;
  FF_CHECK(cudaMalloc(&p, (size_t)n * sizeof(float)), "cannot allocate GPU memory");
  return (float*)p;
}

static void ff_launch(${params}) {
  ${kernelName}<<<dim3(${gx}, ${gy}, ${gz}), dim3(${bx}, ${by}, ${bz})>>>(${tensors.map((t) => t.name).join(', ')});
}

/* The harness's timer: seconds per launch over \`number\` back-to-back launches, between two CUDA
 * events; ctx holds the device tensors in parameter order. No deadline: the launches are queued
 * before the clock can be read. */
static double ff_cuda_timer(void* ctx, long number, double deadline) {
  (void)deadline;
  float** t = (float**)ctx;
  cudaEvent_t start, stop;
  FF_CHECK(cudaEventCreate(&start), "cannot create a CUDA event");
  FF_CHECK(cudaEventCreate(&stop), "cannot create a CUDA event");
  FF_CHECK(cudaEventRecord(start), "cannot record a CUDA event");
  for (long j = 0; j < number; ++j) ff_launch(${tensors.map((_, i) => `t[${i}]`).join(', ')});
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
  ff_harness_options o = ff_measure_options(argc, argv);
  o.max_ms = 0;  /* the CPU harness's wall-clock budget: CUDA-event timing does not need it */
  /* The device is chosen by CUDA_VISIBLE_DEVICES (the agent's --gpu-index): it is device 0 here. */
  FF_CHECK(cudaSetDevice(0), "cannot select the GPU");
  FF_CHECK(cudaFree(0), "cannot initialise the GPU");
${hostAlloc.join('\n')}
${fill.join('\n')}
${devAlloc.join('\n')}
${upload.join('\n')}
  /* NaN everywhere first (all bits set), so an element the kernel never writes fails the check. */
  FF_CHECK(cudaMemset(d_${out}, 0xFF, (size_t)${outSize} * sizeof(float)), "cannot clear the output");
  float* device_tensors[] = { ${tensors.map((t) => `d_${t.name}`).join(', ')} };

  /* warm-up run, also the one checked */
  ff_launch(${tensors.map((t) => `d_${t.name}`).join(', ')});
  FF_CHECK(cudaGetLastError(), "kernel launch failed");
  FF_CHECK(cudaDeviceSynchronize(), "kernel failed");
  FF_CHECK(cudaMemcpy(h_${out}, d_${out}, (size_t)${outSize} * sizeof(float), cudaMemcpyDeviceToHost), "cannot copy the output back");
${hostCheck}
  double max_err = ff_check_reference(h_${out}, ${outSize}, &o);
  ff_write_output(h_${out}, ${outSize}, &o);
  ff_timing timing = ff_measure(ff_cuda_timer, device_tensors, &o);
  ff_report("", max_err, &timing);
  return 0;
}
`;
}
