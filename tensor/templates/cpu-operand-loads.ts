// Operand traffic of a register tile, read from the body's loads: per step of the reduction, each
// load of the body is issued once for every distinct point of the tile's axes its index depends
// on (a vector along the vector axis, a broadcast where the index ignores it), and feeds that many
// of the tile's multiply-adds. A tile is worth growing only while this ratio can still fall:
// gemm's outer product reaches about 0.37 loads per multiply-add in 31 registers, a depthwise
// convolution, whose input depends on every tile axis, never goes below 1.
import type { ComputeDef } from '../compute.ts';
import { flatStrideIn } from '../affine.ts';
import { guardedLoads } from './cpu-layout.ts';

/** A register tile: level-3 factor per spatial axis (by name); the vector axis's is in floats. */
export type RegisterTile = ReadonlyMap<string, number>;

const dependenceCache = new WeakMap<ComputeDef, Set<string>[]>();

/** Distinct loads of the body (tensor and index), each as the spatial axes its address moves with. */
function loadDependences(def: ComputeDef): Set<string>[] {
  let found = dependenceCache.get(def);
  if (!found) {
    const seen = new Map<string, Set<string>>();
    for (const { load } of guardedLoads(def.body)) {
      const key = JSON.stringify([load.tensor, load.index]);
      if (seen.has(key)) continue;
      const shape = def.inputs.find((t) => t.name === load.tensor)?.shape ?? load.index.map(() => 1);
      // A non-affine index (null stride) is taken to move with the axis: the conservative count.
      const axes = new Set(def.spatial.filter((a) => flatStrideIn(load.index, shape, a.name) !== 0).map((a) => a.name));
      seen.set(key, axes);
    }
    found = [...seen.values()];
    dependenceCache.set(def, found);
  }
  return found;
}

/** Distinct points of the tile over `axes` (all of them when absent): whole vectors along the vector axis. */
function tilePoints(tile: RegisterTile, vectorAxis: string | null, lanes: number, axes?: ReadonlySet<string>): number {
  let points = 1;
  for (const [axis, factor] of tile) if (!axes || axes.has(axis)) points *= axis === vectorAxis ? Math.ceil(factor / lanes) : factor;
  return points;
}

/** Vector registers the tile's accumulators take. */
export const tileVectors = (tile: RegisterTile, vectorAxis: string | null, lanes: number): number => tilePoints(tile, vectorAxis, lanes);

/** Loads and broadcasts per multiply-add of the tile, per reduction step, on a register file of
 *  `registers` vectors. An operand used by several multiply-adds is loaded once if it stays in a
 *  register: the loop over the most numerous operand streams them one at a time, the others
 *  stay resident. Where accumulators and resident operands do not fit beside one spare, the
 *  compiler reloads the resident operands at every use (AVX2's 4 × 3-vector tile: 16 loads per
 *  12 multiply-adds, where the 6 × 2 tile needs 8). */
export function operandLoadsPerFma(def: ComputeDef, tile: RegisterTile, vectorAxis: string | null, lanes: number, registers = Infinity): number {
  const vectors = tileVectors(tile, vectorAxis, lanes);
  const distinct = loadDependences(def).map((axes) => tilePoints(tile, vectorAxis, lanes, axes)).sort((a, b) => b - a);
  const streamed = distinct[0] ?? 0, kept = distinct.slice(1);
  const resident = kept.filter((n) => n < vectors).reduce((sum, n) => sum + n, 0) + 1;
  const fits = vectors + resident <= registers - 1;
  const loads = streamed + kept.reduce((sum, n) => sum + (fits || n >= vectors ? n : vectors), 0);
  return loads / vectors;
}

const leastCache = new WeakMap<ComputeDef, Map<string, number>>();

/** The fewest loads per multiply-add of any tile of at most `maxVectors` accumulators, on a
 *  register file of maxVectors + 1 (the axes' extents bound their factors). */
export function leastOperandLoadsPerFma(def: ComputeDef, vectorAxis: string | null, lanes: number, maxVectors: number): number {
  const memo = leastCache.get(def) ?? new Map<string, number>();
  leastCache.set(def, memo);
  const key = `${vectorAxis}/${lanes}/${maxVectors}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const axes = def.spatial.filter((a) => a.extent > 1);
  let least = Infinity;
  const tile = new Map<string, number>();
  const walk = (i: number, vectors: number): void => {
    if (i === axes.length) {
      least = Math.min(least, operandLoadsPerFma(def, tile, vectorAxis, lanes, maxVectors + 1));
      return;
    }
    const axis = axes[i], unit = axis.name === vectorAxis ? lanes : 1;
    const most = Math.ceil(axis.extent / unit);
    for (let n = 1; n <= most && vectors * n <= maxVectors; n++) {
      tile.set(axis.name, Math.min(n * unit, axis.extent));
      walk(i + 1, vectors * n);
    }
    tile.delete(axis.name);
  };
  walk(0, 1);
  memo.set(key, least);
  return least;
}
