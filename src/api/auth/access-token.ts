/**
 * Access tokens: short-lived JWTs (HS256, jose) naming the user, the operator and the sign-in session. The role
 * in the token is informational; each request re-reads the user and session, so that a revoked session, a
 * disabled user or a changed role takes effect at once rather than when the token expires.
 */
import { jwtVerify, SignJWT } from 'jose';

const ISSUER = 'voltbill';
const AUDIENCE = 'voltbill-api';

export type AccessClaims = { userId: string; operatorId: string; sessionId: string; role: string };

export async function issueAccessToken(
  signingKey: Uint8Array,
  claims: AccessClaims,
  now: Date,
  ttlS: number,
): Promise<string> {
  const nowS = Math.floor(now.getTime() / 1000);
  return new SignJWT({ op: claims.operatorId, sid: claims.sessionId, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + ttlS)
    .sign(signingKey);
}

/** The claims of a valid, unexpired token; undefined for anything else (bad signature, expired, wrong alg). */
export async function verifyAccessToken(
  signingKey: Uint8Array,
  token: string,
  now: Date,
): Promise<AccessClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, signingKey, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
      currentDate: now,
    });
    if (typeof payload.sub !== 'string' || typeof payload.op !== 'string' || typeof payload.sid !== 'string') {
      return undefined;
    }
    return { userId: payload.sub, operatorId: payload.op, sessionId: payload.sid, role: String(payload.role) };
  } catch {
    return undefined;
  }
}
