// A message that fails validation: which field, why, and the reason label the drop metric counts.
import { FlexfarmError } from '../errors.ts';

/** Reasons a message is dropped (a closed set: they label flexfarm_messages_dropped_total). */
export const DROP_REASONS = [
  // the contract layer: the message itself
  'not_json', 'too_large', 'malformed', 'bad_time',
  // the message against its subject: it names another agent than the one whose subject it came on
  'agent_mismatch',
  // the coordinator: the message against what it issued
  'unknown_campaign', 'no_campaign', 'subject_mismatch', 'campaign_ended', 'not_issued', 'wrong_agent',
  'wrong_target', 'wrong_workload', 'wrong_config', 'implausible_time', 'address_conflict',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** What kind of subject a dropped message came on. */
export type SubjectKind = 'results' | 'heartbeat';

/** A message dropped before (or instead of) being applied. */
export interface MessageDrop {
  subjectKind: SubjectKind;
  reason: DropReason;
  /** For the log line: what was wrong, naming the field. */
  detail: string;
  /** The subject it came on, when known. */
  subject?: string;
}

export class MessageError extends FlexfarmError {
  override name = 'MessageError';
  readonly code = 'MESSAGE_INVALID';
  constructor(readonly field: string, message: string, readonly reason: DropReason = 'malformed') {
    super(`${field}: ${message}`);
  }
}
