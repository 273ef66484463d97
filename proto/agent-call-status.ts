// AgentCallError codes (contracts/agent-call-error.ts) and gRPC status codes, both ways: the agent's
// server answers a refusal with the status of its code, the coordinator's gRPC client turns the
// status it receives back into the code.
import { status } from '@grpc/grpc-js';
import { AgentCallError, type AgentCallCode } from '../contracts/agent-call-error.ts';
import { isServiceError } from './grpc-status.ts';

const STATUS_OF: Record<AgentCallCode, status> = {
  INVALID: status.INVALID_ARGUMENT,
  REFUSED: status.FAILED_PRECONDITION,
  BUSY: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE: status.DEADLINE_EXCEEDED,
  INTERNAL: status.INTERNAL,
};

export function statusOfAgentCall(code: AgentCallCode): status {
  return STATUS_OF[code];
}

export function agentCallCodeOf(code: status): AgentCallCode {
  const found = (Object.keys(STATUS_OF) as AgentCallCode[]).find((c) => STATUS_OF[c] === code);
  return found ?? 'INTERNAL';
}

/** What a gRPC call to an agent rejected with, as an AgentCallError (same message, the original as cause). */
export function agentCallErrorFromGrpc(err: unknown): AgentCallError {
  if (err instanceof AgentCallError) return err;
  const message = (err as Error)?.message ?? String(err);
  return new AgentCallError(isServiceError(err) ? agentCallCodeOf(err.code) : 'INTERNAL', message, { cause: err });
}
