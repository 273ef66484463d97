// Why a call was refused for its credentials, as a bounded label set, and the Prometheus counter
// both servers export (present at 0 for every reason from the start).
import { Counter, type Registry } from 'prom-client';

export const AUTH_REFUSAL_REASONS = ['no_client_certificate', 'missing_token', 'wrong_token'] as const;
export type AuthRefusalReason = (typeof AUTH_REFUSAL_REASONS)[number];

export interface AuthRefusal {
  reason: AuthRefusalReason;
  /** The gRPC method called, e.g. /flexfarm.v1.AgentService/Measure. */
  method: string;
  /** Who called (grpc-js's peer, ip:port). */
  peer: string;
  message: string;
}

/** Registers `name`{reason} in `registry`; the returned function counts one refusal. */
export function authRefusalCounter(registry: Registry, name: string): (refusal: AuthRefusal) => void {
  const counter = new Counter({
    name, help: `gRPC calls refused for their credentials (UNAUTHENTICATED), by reason (${AUTH_REFUSAL_REASONS.join(', ')}).`,
    labelNames: ['reason'], registers: [registry],
  });
  for (const reason of AUTH_REFUSAL_REASONS) counter.inc({ reason }, 0);
  return (refusal) => counter.inc({ reason: refusal.reason });
}
