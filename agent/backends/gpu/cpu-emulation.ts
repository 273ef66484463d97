// Checks the CUDA lowering where no GPU exists: the very kernels the CUDA renderer prints are
// compiled by g++ with a small header that emulates the CUDA execution model — every thread of a
// block is a real CPU thread, `__syncthreads()` is a barrier over them, `__shared__` buffers are
// shared by the block's threads, and blocks run one after the other. A missing barrier or a wrong
// shared-memory index then gives a wrong answer here, as it would on a GPU. Not a performance
// model: timing is meaningless, and threads per block should stay small (tests use tiny shapes).
import type { ComputeDef } from '../../../tensor/compute.ts';
import type { Stmt } from '../../../tensor/ir.ts';
import { INPUT_VALUE_C } from '../../../tensor/data.ts';
import { CudaRenderer } from './cuda-renderer.ts';
import { bindOutputLoops } from './thread-per-point.ts';

/** g++ flags for an emulation program. */
export const EMULATION_FLAGS = ['-std=c++20', '-O1', '-pthread', '-w'];

const EMULATION_HEADER = `/* ---- CUDA execution model on CPU threads (flexfarm GPU lowering check) ---- */
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

struct ff_dim3 { unsigned x, y, z; };
static thread_local ff_dim3 threadIdx, blockIdx;
static std::barrier<>* ff_block_barrier = nullptr;
static inline void __syncthreads() { ff_block_barrier->arrive_and_wait(); }
#define __global__
#define __host__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static

/* One CPU thread per CUDA thread; blocks in order, a barrier between them (shared buffers are reused). */
template <class F> static void ff_emulate(ff_dim3 grid, ff_dim3 block, F run) {
  const unsigned threads = block.x * block.y * block.z;
  std::barrier<> bar(threads);
  ff_block_barrier = &bar;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      threadIdx = { t % block.x, (t / block.x) % block.y, t / (block.x * block.y) };
      for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
          for (unsigned bx = 0; bx < grid.x; ++bx) {
            blockIdx = { bx, by, bz };
            run();
            bar.arrive_and_wait();
          }
    });
  }
  for (auto& th : pool) th.join();
}
`;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * A C++ program that runs every nest on the same deterministic inputs and writes the outputs, one
 * after the other (float32, row-major), to the file named by its first argument.
 */
export function emulationProgram(def: ComputeDef, nests: Stmt[]): string {
  const renderer = new CudaRenderer();
  const kernels: string[] = [], runs: string[] = [];
  const tensors = [...def.inputs, def.output];
  const out = def.output.name, outSize = size(def.output.shape);
  nests.forEach((nest, i) => {
    renderer.kernelName = `kernel_${i}`;
    kernels.push(renderer.renderKernel(def, bindOutputLoops(def, nest), `emulated kernel ${i}`));
    const { grid, block } = renderer.launch;
    runs.push(
      `  for (long i = 0; i < ${outSize}L; ++i) ${out}[i] = NAN;`,
      `  ff_emulate({ ${grid.join(', ')} }, { ${block.join(', ')} }, [&] { kernel_${i}(${tensors.map((t) => t.name).join(', ')}); });`,
      `  if (fwrite(${out}, sizeof(float), ${outSize}, f) != ${outSize}) return 1;`,
    );
  });
  return [
    EMULATION_HEADER,
    ...kernels,
    INPUT_VALUE_C,
    'int main(int argc, char** argv) {',
    '  if (argc != 2) { fprintf(stderr, "usage: %s OUTPUT\\n", argv[0]); return 2; }',
    ...tensors.map((t) => `  static float ${t.name}[${size(t.shape)}];`),
    ...def.inputs.map((t, i) => `  for (long i = 0; i < ${size(t.shape)}L; ++i) ${t.name}[i] = ff_input_value(${i}, i);`),
    '  FILE* f = fopen(argv[1], "wb");',
    '  if (!f) return 1;',
    ...runs,
    '  return fclose(f) == 0 ? 0 : 1;',
    '}',
    '',
  ].join('\n');
}
