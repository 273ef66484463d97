// Each device's yardstick on the page (the coordinator's TargetSnapshot.yardstick): what its
// curves are normalised to — the vendor library's figure at this shape, else the device's FP32
// peak, else its own best — and the best's figures against the reference, library and peak.
import { fmtGflops, fmtPercent, fmtRatio, h } from './page-util.js';

const library = (t) => t.yardstick?.library?.gflops > 0;
const peak = (t) => t.yardstick?.peak?.gflops > 0;

/** Per target (null before its first valid measurement): { kind: 'library' | 'peak' | 'best',
 *  gflops, text }. One kind for all when every device has it — the library's figure, else the
 *  peak — so the curves read on one scale; else each device's own best-known figure. */
export function basesOf(targets) {
  const withBest = targets.filter((t) => t.best);
  const common = withBest.length && withBest.every(library) ? 'library' : withBest.length && withBest.every(peak) ? 'peak' : null;
  return targets.map((t) => (t.best ? basisOf(t, common) : null));
}

function basisOf(t, prefer) {
  const y = t.yardstick;
  if (prefer === 'peak') return { kind: 'peak', gflops: y.peak.gflops, text: `÷ peak (${fmtGflops(y.peak.gflops)}, ${y.peak.source})` };
  if (y?.library?.gflops > 0) return { kind: 'library', gflops: y.library.gflops, text: `÷ ${y.library.name} (${fmtGflops(y.library.gflops)})` };
  if (y?.peak?.gflops > 0) return { kind: 'peak', gflops: y.peak.gflops, text: `÷ peak (${fmtGflops(y.peak.gflops)}, ${y.peak.source})` };
  if (t.best?.gflops > 0) return { kind: 'best', gflops: t.best.gflops, text: `÷ its own best (${fmtGflops(t.best.gflops)}; no library or peak figure)` };
  return null;
}

/** The y-axis label of normalised charts: one basis named when every device shares it. */
export function normalisedLabel(bases) {
  const kinds = new Set(bases.filter(Boolean).map((b) => b.kind));
  if (kinds.size !== 1) return '÷ each device\'s yardstick';
  const [kind] = kinds;
  return kind === 'library' ? 'ours ÷ library' : kind === 'peak' ? 'fraction of FP32 peak' : 'fraction of own best';
}

/** The best's figures, for the best-configuration cards: speedup, ÷ library, % of peak. */
export function yardstickFigures(t) {
  const y = t.yardstick;
  if (!y) return null;
  const parts = [];
  if (y.speedup !== null && y.speedup !== undefined) parts.push(h('span', { 'data-figure': 'speedup', title: `unscheduled reference: ${fmtGflops(y.reference?.gflops)}` }, `${fmtRatio(y.speedup)} reference`));
  if (y.ofLibrary !== null && y.ofLibrary !== undefined) parts.push(h('span', { 'data-figure': 'library', title: `${y.library.name} at this shape on ${y.device}: ${fmtGflops(y.library.gflops)}` }, `${fmtRatio(y.ofLibrary)} ${y.library.name}`));
  else if (y.libraryMissing) parts.push(h('span', { 'data-figure': 'library', class: 'muted', title: y.libraryMissing }, 'no library figure'));
  if (y.ofPeak !== null && y.ofPeak !== undefined) parts.push(h('span', { 'data-figure': 'peak', title: `peak ${fmtGflops(y.peak.gflops)} (${y.peak.source})${y.ofPeak > 1 ? '; above the peak: it was measured while the host was busy' : ''}` }, `${fmtPercent(y.ofPeak)} of peak${y.ofPeak > 1 ? ' (peak measured on a busy host)' : ''}`));
  return parts.length ? h('div', { class: 'figures' }, ...parts.flatMap((p, i) => (i ? [' · ', p] : [p]))) : null;
}
