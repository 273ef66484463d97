// The charts' x-axis: the measurement count (each device's own: how good after N measurements),
// or the wall clock since the campaign was submitted (how good after T: what a farm's user pays
// for, and where a stall or a slow device shows). Minutes once the span passes ten minutes.

const MINUTES_AFTER_S = 600;

/** { label, xOf(point) → x or null (not placeable), xMax (domain end; 0: the data's) }. */
export function xAxisOf(c, byTarget, mode) {
  if (mode !== 'time') {
    return { mode: 'n', label: 'measurements', xOf: (p) => p.n, xMax: Math.max(...c.targets.map((t) => t.budget), 1) };
  }
  const t0 = Date.parse(c.createdAt);
  let spanS = 0;
  for (const points of byTarget.values()) {
    for (const p of points.values()) if (Number.isFinite(p.w)) spanS = Math.max(spanS, (p.w - t0) / 1000);
  }
  const unit = spanS > MINUTES_AFTER_S ? 60 : 1;
  return {
    mode: 'time',
    label: unit === 60 ? 'minutes since submitted' : 'seconds since submitted',
    xOf: (p) => (Number.isFinite(p.w) && Number.isFinite(t0) ? Math.max(0, (p.w - t0) / 1000 / unit) : null),
    xMax: 0,
  };
}
