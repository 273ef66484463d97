// HLS C++ for Vitis HLS: one top function per kernel with AXI interfaces, Vitis pragmas inside
// loop bodies (PIPELINE II=, UNROLL), tile buffers declared as static multi-dimensional arrays
// with their ARRAY_PARTITION pragmas. g++ ignores the pragmas, so the same text is the C
// simulation source.
import { CRenderer, type RenderContext } from '../../c-renderer.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import type { Expr, Stmt } from '../../../tensor/ir.ts';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;

/** Name of the top function for an operator (`gemm_top`). */
export const topFunctionName = (def: ComputeDef): string => `${def.op}_top`;
/** Label of a loop: how the synthesis report names it (perfectly nested loops that HLS flattens
 *  are reported under their labels joined by '_', e.g. `L_k_s_L_m_s_L_n_s`). */
export const loopLabel = (loopVar: string): string => `L_${loopVar}`;
/** Off-chip port bundle of tensor number `i` (inputs then output): one AXI master each. */
export const bundleName = (i: number): string => `gmem${i}`;
/** Widest AXI data path HLS may widen bursts to (512 bits = 16 floats). */
export const MAX_WIDEN_BITS = 512;

export class HlsRenderer extends CRenderer {
  /** Buffers declared as multi-dimensional arrays, indexed per dimension. */
  private readonly buffers = new Set<string>();

  constructor(kernelName = 'kernel') {
    super();
    this.kernelName = kernelName;
  }

  protected override restrictKeyword(): string { return ''; }

  protected override prelude(): string[] {
    return [
      '// HLS C++ (Vitis HLS). g++ ignores the HLS pragmas: the same source is the C simulation.',
      ...super.prelude(),
    ];
  }

  override kernelParams(def: ComputeDef): string {
    return [...def.inputs.map((t) => `const float* ${t.name}`), `float* ${def.output.name}`].join(', ');
  }

  override renderKernel(def: ComputeDef, nest: Stmt, comment?: string): string {
    this.buffers.clear();
    const shapes = new Map<string, number[]>();
    for (const t of [...def.inputs, def.output]) shapes.set(t.name, t.shape);
    const interfaces = [...def.inputs, def.output].map((t, i) =>
      `#pragma HLS INTERFACE mode=m_axi port=${t.name} bundle=${bundleName(i)} offset=slave` +
      ` depth=${t.shape.reduce((a, b) => a * b, 1)} max_widen_bitwidth=${MAX_WIDEN_BITS}`);
    return [
      ...this.prelude(),
      '',
      `/* ${def.key}${comment ? `\n * ${comment}` : ''} */`,
      `void ${this.kernelName}(${this.kernelParams(def)}) {`,
      ...interfaces,
      '#pragma HLS INTERFACE mode=s_axilite port=return',
      ...this.renderStmt(nest, { shapes }, 1),
      '}',
      '',
    ].join('\n');
  }

  override renderStmt(s: Stmt, ctx: RenderContext, depth: number): string[] {
    const pad = this.indentUnit.repeat(depth);
    if (s.k === 'loop') {
      return [
        `${pad}${loopLabel(s.v)}: for (int ${s.v} = 0; ${s.v} < ${this.expr(s.extent, ctx)}; ++${s.v}) {`,
        ...this.bodyPragmas(s).map((p) => this.indentUnit.repeat(depth + 1) + p),
        ...this.renderStmt(s.body, { shapes: ctx.shapes, parentLoop: s }, depth + 1),
        `${pad}}`,
      ];
    }
    if (s.k === 'alloc') {
      ctx.shapes.set(s.name, s.shape);
      this.buffers.add(s.name);
      const dims = (s.shape.length ? s.shape : [1]).map((n) => `[${Math.max(1, n)}]`).join('');
      // static: a memory of the design, not a stack array (tiles can be megabytes in C simulation).
      return [
        `${pad}static float ${s.name}${dims};`,
        ...(s.partition ?? []).map((p) => `${pad}#pragma HLS ARRAY_PARTITION variable=${s.name} type=${p.type}` +
          `${p.type === 'complete' ? '' : ` factor=${p.factor}`} dim=${p.dim + 1}`),
      ];
    }
    return super.renderStmt(s, ctx, depth);
  }

  override indexed(tensor: string, index: Expr[], ctx: RenderContext): string {
    if (!this.buffers.has(tensor)) return super.indexed(tensor, index, ctx);
    const shape = ctx.shapes.get(tensor) ?? [];
    if (index.length !== shape.length) {
      throw new Error(`render: '${tensor}' has rank ${shape.length} but is indexed with ${index.length} indices`);
    }
    return `${tensor}${index.length ? index.map((e) => `[${this.expr(e, ctx)}]`).join('') : '[0]'}`;
  }

  /** Vitis pragmas go first inside the loop body. */
  private bodyPragmas(loop: LoopStmt): string[] {
    if (loop.kind === 'pipeline') return [`#pragma HLS PIPELINE II=${loop.ii ?? 1}`];
    if (loop.kind === 'unroll') {
      const extent = loop.extent.k === 'int' ? loop.extent.v : undefined;
      return [loop.unroll && loop.unroll !== extent ? `#pragma HLS UNROLL factor=${loop.unroll}` : '#pragma HLS UNROLL'];
    }
    return loop.unroll ? [`#pragma HLS UNROLL factor=${loop.unroll}`] : [];
  }
}

/** The C simulation program: the top function followed by the shared harness (compiled as C++). */
export function hlsKernel(def: ComputeDef, nest: Stmt, note?: string): { source: string; top: string } {
  const renderer = new HlsRenderer(topFunctionName(def));
  return { source: renderer.renderKernel(def, nest, note), top: renderer.kernelName };
}
