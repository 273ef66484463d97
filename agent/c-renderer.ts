// The shared C-style renderer: expressions, statements, multi-dimensional indices flattened
// row-major, and the kernel signature. Targets subclass it and override small hooks (pragmas,
// qualifiers, prelude) — no target special cases live here.
import type { ComputeDef } from '../tensor/compute.ts';
import type { Expr, Stmt } from '../tensor/ir.ts';
import { add, int, mul, simplify, statements } from '../tensor/ir.ts';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;
type AllocStmt = Extract<Stmt, { k: 'alloc' }>;


export interface RenderContext {
  /** Shapes of every tensor and local buffer in scope, by name. */
  shapes: Map<string, number[]>;
  /** The loop directly around the statement being rendered, if any. */
  parentLoop?: LoopStmt;
}

export class CRenderer {
  /** Name of the generated kernel function. */
  kernelName = 'kernel';
  protected indentUnit = '  ';

  /** Qualifier for non-aliasing pointers. */
  protected restrictKeyword(): string { return 'restrict'; }
  /** Text before the return type of the kernel (e.g. `__global__`). */
  protected kernelPrefix(): string { return ''; }
  /** Includes and helpers emitted once before the kernel. */
  protected prelude(): string[] {
    return [
      '#include <stdint.h>',
      'static inline int ff_min(int a, int b) { return a < b ? a : b; }',
      'static inline int ff_max(int a, int b) { return a > b ? a : b; }',
    ];
  }
  /** Pragmas on the line before a loop. */
  protected loopPragmas(_loop: LoopStmt, _ctx: RenderContext): string[] { return []; }
  /** A loop the target maps onto hardware indices instead of iterating (e.g. a GPU's blockIdx):
   *  the declaration binding its variable, or null for an ordinary for loop. */
  protected loopBinding(_loop: LoopStmt, _ctx: RenderContext): string | null { return null; }
  /** Name of the function that runs the nest's `prepare` statements once, untimed. */
  get prepareName(): string { return `${this.kernelName}_prepare`; }

  /** Declaration of a file-scope buffer (a `static` alloc). */
  protected staticDecl(name: string, size: number): string {
    return `static float ${name}[${size}];`;
  }
  /** Declaration of a local buffer. */
  protected allocDecl(name: string, size: number, scope: 'local' | 'shared'): string {
    if (scope === 'shared') throw new Error(`${this.constructor.name} cannot render shared buffer '${name}'`);
    return `float ${name}[${size}];`;
  }
  /** A statement this renderer does not support (e.g. a barrier on CPU). */
  protected renderBarrier(): string[] { throw new Error(`${this.constructor.name} cannot render a barrier`); }

  /** The kernel's parameters: inputs then output, in definition order. */
  kernelParams(def: ComputeDef): string {
    const r = this.restrictKeyword();
    return [
      ...def.inputs.map((t) => `const float* ${r} ${t.name}`),
      `float* ${r} ${def.output.name}`,
    ].join(', ');
  }

  /** The full kernel: prelude, file-scope buffers, the prepare function when the nest has one,
   *  then one function running `nest`. */
  renderKernel(def: ComputeDef, nest: Stmt, comment?: string): string {
    const shapes = new Map<string, number[]>();
    for (const t of [...def.inputs, def.output]) shapes.set(t.name, t.shape);
    const all = statements(nest);
    const statics = all.filter((s): s is AllocStmt => s.k === 'alloc' && s.scope === 'static');
    for (const b of statics) shapes.set(b.name, b.shape);
    // Views reshape a tensor for the whole program (its prepare step included).
    for (const view of all) if (view.k === 'view') shapes.set(view.tensor, view.shape);
    const prepares = all.flatMap((s) => (s.k === 'prepare' ? [s.body] : []));
    const prefix = this.kernelPrefix();
    const prepare = prepares.length
      ? [`void ${this.prepareName}(${this.kernelParams(def)}) {`, ...prepares.flatMap((b) => this.renderStmt(b, { shapes }, 1)), '}', '']
      : [];
    return [
      ...this.prelude(),
      '',
      `/* ${def.key}${comment ? `\n * ${comment}` : ''} */`,
      ...statics.map((b) => this.staticDecl(b.name, b.shape.reduce((x, y) => x * y, 1))),
      ...(statics.length ? [''] : []),
      ...prepare,
      `${prefix ? `${prefix} ` : ''}void ${this.kernelName}(${this.kernelParams(def)}) {`,
      ...this.renderStmt(nest, { shapes }, 1),
      '}',
      '',
    ].join('\n');
  }

  renderStmt(s: Stmt, ctx: RenderContext, depth: number): string[] {
    const pad = this.indentUnit.repeat(depth);
    switch (s.k) {
      case 'seq': {
        // Buffers declared in a seq are visible to the statements after them.
        const inner: RenderContext = { shapes: new Map(ctx.shapes), parentLoop: s.body.length === 1 ? ctx.parentLoop : undefined };
        return s.body.flatMap((b) => this.renderStmt(b, inner, depth));
      }
      case 'loop': {
        const inner = { shapes: ctx.shapes, parentLoop: s };
        const binding = this.loopBinding(s, ctx);
        if (binding !== null) return [`${pad}{`, `${pad}${this.indentUnit}${binding}`, ...this.renderStmt(s.body, inner, depth + 1), `${pad}}`];
        const pragmas = this.loopPragmas(s, ctx).map((p) => pad + p);
        return [
          ...pragmas,
          `${pad}for (int ${s.v} = 0; ${s.v} < ${this.expr(s.extent, ctx)}; ++${s.v}) {`,
          ...this.renderStmt(s.body, inner, depth + 1),
          `${pad}}`,
        ];
      }
      case 'let':
        return [`${pad}const int ${s.name} = ${this.expr(s.value, ctx)};`];
      case 'alloc':
        // File-scope buffers are declared once, before the functions (renderKernel).
        if (s.scope === 'static') return [];
        ctx.shapes.set(s.name, s.shape);
        return [pad + this.allocDecl(s.name, s.shape.reduce((a, b) => a * b, 1), s.scope)];
      case 'prepare':
        return [];  // rendered into the prepare function (renderKernel)
      case 'view':
        return [`${pad}/* ${s.tensor} indexed as [${s.shape.join('][')}] (the same memory) */`];
      case 'store': {
        const target = this.indexed(s.tensor, s.index, ctx);
        return [`${pad}${target} ${s.accumulate ? '+=' : '='} ${this.expr(s.value, ctx)};`];
      }
      case 'if': {
        const inner = { shapes: ctx.shapes };
        const out = [`${pad}if (${this.expr(s.cond, ctx)}) {`, ...this.renderStmt(s.then, inner, depth + 1)];
        if (s.else) out.push(`${pad}} else {`, ...this.renderStmt(s.else, inner, depth + 1));
        return [...out, `${pad}}`];
      }
      case 'barrier':
        return this.renderBarrier().map((l) => pad + l);
      case 'comment':
        return [`${pad}/* ${s.text} */`];
    }
  }

  /** `T[flat index]` with the index flattened row-major against T's shape. */
  indexed(tensor: string, index: Expr[], ctx: RenderContext): string {
    const shape = ctx.shapes.get(tensor);
    if (!shape) throw new Error(`render: unknown tensor or buffer '${tensor}'`);
    if (index.length !== shape.length) {
      throw new Error(`render: '${tensor}' has rank ${shape.length} but is indexed with ${index.length} indices`);
    }
    let flat: Expr = int(0);
    index.forEach((e, i) => { flat = add(mul(flat, int(shape[i])), e); });
    return `${tensor}[${this.expr(simplify(flat), ctx)}]`;
  }

  expr(e: Expr, ctx: RenderContext): string {
    switch (e.k) {
      case 'int': return String(e.v);
      case 'float': return Number.isInteger(e.v) ? `${e.v}.0f` : `${e.v}f`;
      case 'var': return e.name;
      case 'bin':
        if (e.op === 'min' || e.op === 'max') return `ff_${e.op}(${this.expr(e.a, ctx)}, ${this.expr(e.b, ctx)})`;
        return `(${this.expr(e.a, ctx)} ${e.op} ${this.expr(e.b, ctx)})`;
      case 'cmp': return `(${this.expr(e.a, ctx)} ${e.op} ${this.expr(e.b, ctx)})`;
      case 'and': return `(${e.terms.map((t) => this.expr(t, ctx)).join(' && ')})`;
      case 'select': return `(${this.expr(e.cond, ctx)} ? ${this.expr(e.a, ctx)} : ${this.expr(e.b, ctx)})`;
      case 'load': return this.indexed(e.tensor, e.index, ctx);
    }
  }
}
