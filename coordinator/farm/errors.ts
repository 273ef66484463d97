import { FlexfarmError } from '../../contracts/errors.ts';
// Errors of the farm's requests; the gRPC server maps each to a status code.

/** NOT_FOUND */
export class UnknownCampaignError extends FlexfarmError {
  override name = 'UnknownCampaignError';
  readonly code = 'UNKNOWN_CAMPAIGN';
  constructor(readonly id: string) {
    super(`unknown campaign '${id}'`);
  }
}

/** FAILED_PRECONDITION: a target no agent serves right now. */
export class NoAgentError extends FlexfarmError {
  override name = 'NoAgentError';
  readonly code = 'NO_AGENT';
}

/** FAILED_PRECONDITION: cancelling a campaign that has already ended. */
export class CampaignEndedError extends FlexfarmError {
  override name = 'CampaignEndedError';
  readonly code = 'CAMPAIGN_ENDED';
}

/** RESOURCE_EXHAUSTED: as many campaigns running as the coordinator takes at once. */
export class TooManyCampaignsError extends FlexfarmError {
  override name = 'TooManyCampaignsError';
  readonly code = 'TOO_MANY_CAMPAIGNS';
}
