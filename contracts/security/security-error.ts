// A credential that cannot be used: a PEM file missing or of the wrong kind, a key that is not the
// certificate's, a token too short. The message names the flag or variable and the file.
import { FlexfarmError } from '../errors.ts';

export class SecurityConfigError extends FlexfarmError {
  override name = 'SecurityConfigError';
  readonly code = 'SECURITY_CONFIG';
}
