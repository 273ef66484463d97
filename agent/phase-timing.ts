// Durations of a measurement's phases (compiler runs, timing runs), published on a Node
// diagnostics channel so the agent's metrics (agent/metrics.ts) can observe them without the
// backends knowing about Prometheus. Publishing costs nothing while nobody subscribes.
import diagnostics from 'node:diagnostics_channel';

export type MeasurePhase = 'compile' | 'run';

export interface MeasurePhaseEvent {
  phase: MeasurePhase;
  seconds: number;
  /** compile: 'ok', 'error' or 'timeout'; run: 'ok' or 'error' (crash, timeout, wrong answer). */
  outcome: 'ok' | 'error' | 'timeout';
}

export const MEASURE_PHASE_CHANNEL = 'flexfarm:measure-phase';

const channel = diagnostics.channel(MEASURE_PHASE_CHANNEL);

export function publishPhase(event: MeasurePhaseEvent): void {
  if (channel.hasSubscribers) channel.publish(event);
}

/** Subscribes to phase events; returns the unsubscribe function. */
export function onMeasurePhase(listener: (event: MeasurePhaseEvent) => void): () => void {
  const handler = (message: unknown) => listener(message as MeasurePhaseEvent);
  diagnostics.subscribe(MEASURE_PHASE_CHANNEL, handler);
  return () => { diagnostics.unsubscribe(MEASURE_PHASE_CHANNEL, handler); };
}
