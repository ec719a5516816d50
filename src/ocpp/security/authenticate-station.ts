/**
 * Decides whether a connecting station may speak for the identity in its URL, by its security profile:
 *
 *   0  unsecured: nothing to check (only while the node's minimum profile is 0, for development and demos)
 *   1  HTTP Basic auth: username = station id (ocpp-rpc only extracts a password when it does), password checked
 *      against the stored scrypt hash
 *   2  TLS with the operator's server certificate, plus Basic auth as in 1
 *   3  mutual TLS: the client certificate chains to the operator's CA, is valid now, and its subject CN is the
 *      station id
 *
 * The profile required is the higher of the station's and the node's minimum, so a station can never connect
 * below it (no downgrade): a profile-2 station over ws:// or a profile-3 station without its certificate is
 * refused, whatever password it sends. The decision is made during the WebSocket handshake, before any OCPP
 * message is read.
 */
import type { TLSSocket } from 'node:tls';
import type { StationRow } from '../../db/schema.ts';
import { verifyPassword } from './password-hash.ts';

export type Transport = {
  readonly tls: boolean;
  /** Present on TLS connections: the verified state and subject of the client certificate, if one was sent. */
  readonly clientCertificate?: {
    readonly presented: boolean;
    readonly authorized: boolean;
    readonly authorizationError?: string;
    readonly commonName?: string;
  };
};

export type AuthRefusal = {
  readonly ok: false;
  /** HTTP status of the refused handshake: 401 bad or missing credentials, 403 transport below the profile. */
  readonly status: 401 | 403;
  readonly reason:
    | 'UnknownStation'
    | 'PasswordMissing'
    | 'PasswordWrong'
    | 'NoPasswordSet'
    | 'TlsRequired'
    | 'ClientCertificateMissing'
    | 'ClientCertificateInvalid'
    | 'ClientCertificateForeignIdentity';
  readonly message: string;
  /** Whether the attempt counts as a failed authentication (guessing), as opposed to a misconfiguration. */
  readonly countsAsFailure: boolean;
};

export type AuthDecision = { readonly ok: true; readonly profile: number } | AuthRefusal;

export async function authenticateStation(
  station: Pick<StationRow, 'id' | 'security_profile' | 'password_hash'> | undefined,
  password: Buffer | undefined,
  transport: Transport,
  minProfile: number,
): Promise<AuthDecision> {
  if (!station) {
    return minProfile === 0 ? { ok: true, profile: 0 } : refuse(401, 'UnknownStation', 'unknown station', true);
  }
  const profile = Math.max(station.security_profile, minProfile);
  if (profile >= 2 && !transport.tls) {
    return refuse(403, 'TlsRequired', `security profile ${profile}: connect with wss:// (TLS)`, false);
  }
  if (profile === 3) {
    const cert = transport.clientCertificate;
    if (!cert?.presented) {
      return refuse(401, 'ClientCertificateMissing', 'security profile 3: a client certificate is required', true);
    }
    if (!cert.authorized) {
      return refuse(
        401,
        'ClientCertificateInvalid',
        `client certificate not accepted: ${cert.authorizationError ?? 'not issued by the operator CA'}`,
        true,
      );
    }
    if (cert.commonName !== station.id) {
      return refuse(401, 'ClientCertificateForeignIdentity', 'the client certificate names another station', true);
    }
    return { ok: true, profile };
  }
  if (profile === 0) return { ok: true, profile };
  if (!station.password_hash) {
    return refuse(401, 'NoPasswordSet', `security profile ${profile} but no password is set for the station`, false);
  }
  if (password === undefined) {
    return refuse(401, 'PasswordMissing', 'HTTP Basic auth with username = station id is required', true);
  }
  if (!(await verifyPassword(password, station.password_hash))) {
    return refuse(401, 'PasswordWrong', 'wrong station id or password', true);
  }
  return { ok: true, profile };
}

/** What the TLS layer says about the peer of a connection (nothing for plain TCP). */
export function transportOf(socket: unknown): Transport {
  const tlsSocket = socket as Partial<TLSSocket>;
  if (!tlsSocket.encrypted || typeof tlsSocket.getPeerCertificate !== 'function') return { tls: false };
  const peer = tlsSocket.getPeerCertificate();
  const presented = Boolean(peer && Object.keys(peer).length > 0);
  const cn = peer?.subject?.CN;
  return {
    tls: true,
    clientCertificate: {
      presented,
      authorized: Boolean(tlsSocket.authorized),
      ...(tlsSocket.authorizationError && { authorizationError: String(tlsSocket.authorizationError) }),
      ...(typeof cn === 'string' && { commonName: cn }),
    },
  };
}

function refuse(
  status: 401 | 403,
  reason: AuthRefusal['reason'],
  message: string,
  countsAsFailure: boolean,
): AuthRefusal {
  return { ok: false, status, reason, message, countsAsFailure };
}
