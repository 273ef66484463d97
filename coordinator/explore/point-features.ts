// The cost model's features of a point, written into a row of a typed array from per-entity
// tables built once: the space's own features (normalised log2 split factors, one-hot choices)
// followed by the per-level tile sizes (levelFeatures). Ranking thousands of candidates a round
// then costs table look-ups and no allocation.
import type { Point, Space } from '../space.ts';

export class PointFeatures {
  /** Values per row. */
  readonly length: number;
  /** Per sub-space, its features entity by entity (`widths[s]` values each). */
  private readonly tables: Float64Array[];
  private readonly widths: number[];
  /** Per sub-space: log2 of each split factor entity by entity (`levels[s]` values each), or null. */
  private readonly logFactors: (Float64Array | null)[];
  private readonly levels: number[];
  private readonly reduce: boolean[];
  private readonly spatialLevels: number;
  private readonly reduceLevels: number;
  private readonly spatialScale: number;
  private readonly reduceScale: number;
  private readonly sums: Float64Array;

  constructor(space: Space) {
    this.tables = [];
    this.widths = [];
    this.logFactors = [];
    this.levels = [];
    this.reduce = [];
    let spatialLevels = 0, reduceLevels = 0, spatialScale = 0, reduceScale = 0;
    space.subspaces.forEach((sub, s) => {
      const width = space.subspaceFeatures(s, 0).length;
      const table = new Float64Array(sub.size * width);
      for (let e = 0; e < sub.size; e++) table.set(space.subspaceFeatures(s, e), e * width);
      this.tables.push(table);
      this.widths.push(width);
      const axis = sub.knob.axis;
      if (sub.knob.kind !== 'split' || !axis) {
        this.logFactors.push(null);
        this.levels.push(0);
        this.reduce.push(false);
        return;
      }
      const parts = (sub.knob.entities[0] as number[]).length;
      const logs = new Float64Array(sub.size * parts);
      sub.knob.entities.forEach((factors, e) => (factors as number[]).forEach((f, level) => { logs[e * parts + level] = Math.log2(f); }));
      this.logFactors.push(logs);
      this.levels.push(parts);
      this.reduce.push(Boolean(axis.reduce));
      if (axis.reduce) { reduceLevels = Math.max(reduceLevels, parts); reduceScale += Math.log2(Math.max(2, axis.extent)); }
      else { spatialLevels = Math.max(spatialLevels, parts); spatialScale += Math.log2(Math.max(2, axis.extent)); }
    });
    this.spatialLevels = spatialLevels;
    this.reduceLevels = reduceLevels;
    this.spatialScale = Math.max(1, spatialScale);
    this.reduceScale = Math.max(1, reduceScale);
    this.sums = new Float64Array(spatialLevels + reduceLevels);
    this.length = this.widths.reduce((a, b) => a + b, 0) + spatialLevels + reduceLevels;
  }

  /** The features of `point` into `out` from `offset` (the values of `[...space.features(point),
   *  ...levelFeatures(space, point)]`). */
  write(point: Point, out: Float64Array, offset: number): void {
    let at = offset;
    const sums = this.sums;
    sums.fill(0);
    for (let s = 0; s < this.tables.length; s++) {
      const width = this.widths[s], table = this.tables[s], e = point[s];
      for (let k = 0; k < width; k++) out[at++] = table[e * width + k];
      const logs = this.logFactors[s];
      if (!logs) continue;
      const parts = this.levels[s], base = this.reduce[s] ? this.spatialLevels : 0;
      for (let level = 0; level < parts; level++) sums[base + level] += logs[e * parts + level];
    }
    for (let level = 0; level < this.spatialLevels; level++) out[at++] = sums[level] / this.spatialScale;
    for (let level = 0; level < this.reduceLevels; level++) out[at++] = sums[this.spatialLevels + level] / this.reduceScale;
  }
}

/** Per split level, log2 of the product of that level's factors over spatial (and over reduce)
 *  axes, normalised: tile sizes are products across axes, which single factors do not show.
 *  (The plain form of what PointFeatures writes.) */
export function levelFeatures(space: Space, point: Point): number[] {
  const spatial: number[] = [], reduce: number[] = [];
  let spatialScale = 0, reduceScale = 0;
  space.subspaces.forEach((sub, s) => {
    const axis = sub.knob.axis;
    if (sub.knob.kind !== 'split' || !axis) return;
    const factors = sub.knob.entities[point[s]] as number[];
    const sums = axis.reduce ? reduce : spatial;
    factors.forEach((f, level) => { sums[level] = (sums[level] ?? 0) + Math.log2(f); });
    if (axis.reduce) reduceScale += Math.log2(Math.max(2, axis.extent));
    else spatialScale += Math.log2(Math.max(2, axis.extent));
  });
  return [...spatial.map((x) => x / Math.max(1, spatialScale)), ...reduce.map((x) => x / Math.max(1, reduceScale))];
}
