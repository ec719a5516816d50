/**
 * CALLERROR codes of the frame guard, per protocol: OCPP 1.6 names a malformed frame FormationViolation; OCPP
 * 2.0.1 renamed it FormatViolation and added RpcFrameworkError for frames that are not OCPP-J at all.
 */
export type GuardErrorCodes = { readonly malformed: string; readonly oversized: string; readonly rateLimited: string };

export const GUARD_ERROR_CODES: Record<string, GuardErrorCodes> = {
  'ocpp1.6': { malformed: 'FormationViolation', oversized: 'FormationViolation', rateLimited: 'GenericError' },
  'ocpp2.0.1': { malformed: 'RpcFrameworkError', oversized: 'FormatViolation', rateLimited: 'GenericError' },
};
