// Typed reads of a node's attributes (int64s arrive as bigint and become numbers: shapes fit).
import type { NodeProto, TensorProto } from 'onnx-buf';

export class Attributes {
  constructor(private readonly node: NodeProto) {}

  private find(name: string) {
    return this.node.attribute.find((a) => a.name === name);
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  int(name: string, fallback: number): number {
    const a = this.find(name);
    return a ? Number(a.i) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.find(name);
    return a ? a.ints.map(Number) : undefined;
  }

  float(name: string, fallback: number): number {
    return this.find(name)?.f ?? fallback;
  }

  floats(name: string): number[] | undefined {
    return this.find(name)?.floats;
  }

  string(name: string, fallback: string): string {
    const a = this.find(name);
    return a ? new TextDecoder().decode(a.s) : fallback;
  }

  tensor(name: string): TensorProto | undefined {
    return this.find(name)?.t;
  }

  /** Names of attributes holding subgraphs (If, Loop, Scan). */
  graphNames(): string[] {
    return this.node.attribute.filter((a) => a.g || a.graphs.length).map((a) => a.name);
  }
}
