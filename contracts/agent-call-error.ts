// A call to an agent that failed, whichever way the agent was reached: the gRPC client maps the
// status code to one of these codes, the agent's own refusals carry one, so the dispatcher decides
// drop-or-retry the same way in a farm and in embedded mode.
import { FlexfarmError, type FlexfarmErrorOptions } from './errors.ts';

export const AGENT_CALL_CODES = [
  'INVALID',      // the request is malformed (empty or oversized batch, bad fields)
  'REFUSED',      // well-formed, but this agent will not take it (another device kind)
  'BUSY',         // the agent's queue is full for now
  'UNAVAILABLE',  // the agent is stopping or cannot be reached
  'DEADLINE',     // no answer within the call's deadline
  'INTERNAL',     // anything else
] as const;
export type AgentCallCode = (typeof AGENT_CALL_CODES)[number];

export class AgentCallError extends FlexfarmError {
  override name = 'AgentCallError';

  constructor(readonly code: AgentCallCode, message: string, options?: FlexfarmErrorOptions) {
    super(message, options);
  }
}

/** Whether a failed call's work is dropped rather than retried: sending it again, to this agent
 *  or another of its kind, would fail the same way. */
export function dropsWork(code: AgentCallCode): boolean {
  return code === 'INVALID' || code === 'REFUSED';
}

/** The error as an AgentCallError: itself, or INTERNAL around anything else. */
export function asAgentCallError(err: unknown): AgentCallError {
  if (err instanceof AgentCallError) return err;
  return new AgentCallError('INTERNAL', (err as Error)?.message ?? String(err), { cause: err });
}
