// Candidate ids, `campaign/target/seq`: built by the campaign that issues them and read back by
// the dispatcher, the farm and the metrics to find a candidate's campaign and target. Campaign ids
// are NATS subject tokens (no '/'), so the three parts split back unambiguously.

export interface CandidateIdParts {
  campaign: string;
  /** The device kind it was issued for. */
  target: string;
  /** Its number within the campaign's run on that target, from 0. */
  seq: number;
}

export function encodeCandidateId(parts: CandidateIdParts): string {
  return `${parts.campaign}/${parts.target}/${parts.seq}`;
}

/** The parts of an id this format made; undefined for any other string (an id is untrusted input). */
export function decodeCandidateId(id: string): CandidateIdParts | undefined {
  const parts = id.split('/');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !/^\d+$/.test(parts[2])) return undefined;
  return { campaign: parts[0], target: parts[1], seq: Number(parts[2]) };
}
