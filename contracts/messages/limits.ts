// Bounds on every field a client or a peer controls, in one place: the gRPC decoders, the NATS
// message validators, the campaign spec and the agent's publisher all read them from here.

/** Campaign ids become NATS subject tokens: letters, digits, `-` and `_`, at most 64. */
export const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Agent names go into NATS subjects (one token, or several joined by single dots), message ids,
 *  logs and metric labels. */
export const AGENT_NAME_PATTERN = /^(?=.{1,128}$)[A-Za-z0-9_:@+-]+(\.[A-Za-z0-9_:@+-]+)*$/;
/** Candidate ids: printable, no whitespace (they go into message ids and logs). */
export const CANDIDATE_ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

export const LIMITS = {
  candidateIdChars: 200,
  workloadChars: 1_024,
  opChars: 64,
  addressChars: 256,
  /** Device model, toolchain, estimator, timestamps and other free text of a message. */
  textChars: 1_024,
  errorMessageChars: 4_096,
  /** A vendor library's name in a result's yardstick. */
  libraryNameChars: 64,
  configJsonBytes: 64 * 1024,
  configKnobs: 256,
  configEntityLength: 64,
  /** Entries of a result's `seconds` (repeats, with re-timing). */
  secondsEntries: 10_000,
  /** Longest time a result may report for one run of a kernel. */
  maxSeconds: 86_400,
  /** Held ids in one heartbeat. */
  heldIds: 10_000,
  capacity: 100_000,
  /** Heartbeat interval: an agent claiming more would stay "up" for hours after it died. */
  heartbeatIntervalMs: { min: 10, max: 60_000 },
  /** One result envelope on the bus (NATS's default max_payload is 1 MiB). */
  resultBytes: 512 * 1024,
  /** One heartbeat on the bus. */
  heartbeatBytes: 512 * 1024,
  /** Candidate ids in one Cancel request. */
  cancelIds: 10_000,
  shapeParams: 32,
  targets: 16,
} as const;

/** The timing protocol's range per field (0 on the wire means "the default"). */
export const PROTOCOL_LIMITS = {
  repeat: { min: 1, max: 1_000 },
  minRepeatMs: { min: 0, max: 60_000 },
  buildTimeoutMs: { min: 1, max: 4 * 3_600_000 },
  runTimeoutMs: { min: 1, max: 3_600_000 },
} as const;

/** Quoting a client's string in an error message (tensor/quote.ts: one implementation for every layer). */
export { quote } from '../../tensor/quote.ts';

export function isSafeCampaignId(id: unknown): id is string {
  return typeof id === 'string' && CAMPAIGN_ID_PATTERN.test(id);
}
