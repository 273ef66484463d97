// Errors of the farm's requests; the gRPC server maps each to a status code.

/** NOT_FOUND */
export class UnknownCampaignError extends Error {
  override name = 'UnknownCampaignError';
  constructor(readonly id: string) {
    super(`unknown campaign '${id}'`);
  }
}

/** FAILED_PRECONDITION: a target no agent serves right now. */
export class NoAgentError extends Error {
  override name = 'NoAgentError';
}

/** FAILED_PRECONDITION: cancelling a campaign that has already ended. */
export class CampaignEndedError extends Error {
  override name = 'CampaignEndedError';
}
