// The `status` label of a measurement in metrics: 'ok' or its error code; every value, so that
// counters can be shown at 0 before anything was measured.
import { ERROR_CODES } from './result.ts';

export const MEASUREMENT_STATUSES: readonly string[] = ['ok', ...ERROR_CODES];
