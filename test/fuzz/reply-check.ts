/**
 * What the fuzzer accepts from the server: every frame it sends is a CALLRESULT [3, id, {payload}] or a CALLERROR
 * [4, id, code, description, {details}] whose code is one the station's OCPP version defines (or a CALL the server
 * initiates). Anything else is a protocol violation.
 */
import type { Protocol } from './fuzz-frames.ts';

export const ERROR_CODES: Record<Protocol, ReadonlySet<string>> = {
  // OCPP-J 1.6 section 4.2.3 (with the spec's own spelling "OccurenceConstraintViolation"; errata v1.0 section 5
  // corrects it to "OccurrenceConstraintViolation", which ocpp-rpc sends, so both are accepted).
  'ocpp1.6': new Set([
    'NotImplemented',
    'NotSupported',
    'InternalError',
    'ProtocolError',
    'SecurityError',
    'FormationViolation',
    'PropertyConstraintViolation',
    'OccurenceConstraintViolation',
    'OccurrenceConstraintViolation',
    'TypeConstraintViolation',
    'GenericError',
  ]),
  // OCPP 2.0.1 part 4, section 4.3.
  'ocpp2.0.1': new Set([
    'FormatViolation',
    'GenericError',
    'InternalError',
    'MessageTypeNotSupported',
    'NotImplemented',
    'NotSupported',
    'OccurrenceConstraintViolation',
    'PropertyConstraintViolation',
    'ProtocolError',
    'RpcFrameworkError',
    'SecurityError',
    'TypeConstraintViolation',
  ]),
};

export type CheckedReply =
  | { ok: true; kind: 'result' | 'error' | 'server-call'; id: string; label: string; frame: unknown[] }
  | { ok: false; problem: string };

const isObject = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);

export function checkReply(protocol: Protocol, text: string): CheckedReply {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { ok: false, problem: `server sent invalid JSON: ${text.slice(0, 200)}` };
  }
  if (!Array.isArray(frame) || typeof frame[1] !== 'string') {
    return { ok: false, problem: `server sent a non-OCPP-J frame: ${text.slice(0, 200)}` };
  }
  const id = frame[1] as string;
  if (frame[0] === 3 && frame.length === 3 && isObject(frame[2])) {
    return { ok: true, kind: 'result', id, label: 'CALLRESULT', frame };
  }
  if (frame[0] === 4 && frame.length === 5 && typeof frame[3] === 'string' && isObject(frame[4])) {
    const code = frame[2];
    if (typeof code === 'string' && ERROR_CODES[protocol].has(code)) {
      return { ok: true, kind: 'error', id, label: code, frame };
    }
    return { ok: false, problem: `CALLERROR with a code ${protocol} does not define: ${text.slice(0, 200)}` };
  }
  if (frame[0] === 2 && frame.length === 4 && typeof frame[2] === 'string') {
    return { ok: true, kind: 'server-call', id, label: `server CALL ${frame[2]}`, frame };
  }
  return { ok: false, problem: `malformed reply: ${text.slice(0, 200)}` };
}
