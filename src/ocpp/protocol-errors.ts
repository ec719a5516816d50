/**
 * CALLERROR codes of the frame guard, per protocol: OCPP 1.6 names a malformed frame FormationViolation; OCPP
 * 2.0.1 renamed it FormatViolation and added RpcFrameworkError for frames that are not OCPP-J at all.
 */
export type GuardErrorCodes = {
  readonly malformed: string;
  readonly oversized: string;
  readonly rateLimited: string;
  /** A frame whose message type id is not 2, 3 or 4: 2.0.1 has a code for it, 1.6 calls it a formation error. */
  readonly unknownMessageType: string;
};

export const GUARD_ERROR_CODES: Record<string, GuardErrorCodes> = {
  'ocpp1.6': {
    malformed: 'FormationViolation',
    oversized: 'FormationViolation',
    rateLimited: 'GenericError',
    unknownMessageType: 'FormationViolation',
  },
  'ocpp2.0.1': {
    malformed: 'RpcFrameworkError',
    oversized: 'FormatViolation',
    rateLimited: 'GenericError',
    unknownMessageType: 'MessageTypeNotSupported',
  },
};
