/**
 * What the protocol prescribes for each kind of frame the fuzzer sends (fuzz-frames.ts), and the check of what the
 * server did against it. A frame gets one of three prescriptions:
 *
 * - a reply: a CALLRESULT and/or CALLERRORs with the listed codes only, under the listed message id(s);
 * - no reply (a CALLRESULT or CALLERROR for an id the server never used is dropped, never answered);
 * - a close with one WebSocket close code and no reply (invalid UTF-8: 1007; a frame over the ceiling: 1009).
 *
 * Closing the connection instead of a prescribed reply is a violation, and so is a reply the prescription does not
 * allow. `InternalError` (the server failed) is never allowed, and neither is `GenericError`: the gateway sends it only
 * when a station exceeds its message rate, and the fuzzer, one CALL at a time per station under the load-test rate
 * limit, never does (ocpp-fuzz.ts refuses to run with a lower limit).
 *
 * Each checked frame also says what it did to the gateway's count of bad messages in a row (docs/ocpp.md, "Bad
 * input"), so that the fuzzer can expect the 1008 close exactly when the count passes VOLTBILL_OCPP_MAX_BAD_MESSAGES.
 */
import type { FuzzFrame, Protocol } from './fuzz-frames.ts';

/** Every code a CALLERROR may carry, per version; a code outside these is malformed whatever the frame. */
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

/**
 * The codes for a payload that breaks its action's schema: wrong type, a value out of its format or range, an
 * extra or missing property (1.6 FormationViolation, 2.0.1 FormatViolation: "syntactically incorrect").
 */
export const CONSTRAINT_CODES: Record<Protocol, readonly string[]> = {
  'ocpp1.6': [
    'TypeConstraintViolation',
    'PropertyConstraintViolation',
    'OccurenceConstraintViolation',
    'OccurrenceConstraintViolation',
    'FormationViolation',
  ],
  'ocpp2.0.1': [
    'TypeConstraintViolation',
    'PropertyConstraintViolation',
    'OccurrenceConstraintViolation',
    'FormatViolation',
  ],
};

const OCCURRENCE_CODES: Record<Protocol, readonly string[]> = {
  'ocpp1.6': ['OccurenceConstraintViolation', 'OccurrenceConstraintViolation'],
  'ocpp2.0.1': ['OccurrenceConstraintViolation'],
};

/**
 * The codes for frames that are not a valid OCPP-J message at all, answered before any action's handler. OCPP 1.6
 * has one code for all of them (FormationViolation: "syntactically incorrect or not conform the PDU structure");
 * 2.0.1 has RpcFrameworkError ("not a valid RPC request, e.g. the MessageId could not be read"),
 * MessageTypeNotSupported and FormatViolation. A frame nested too deep is a valid RPC request whose payload is
 * unusable, so on 2.0.1 FormatViolation is as right as RpcFrameworkError. The gateway's choices
 * (src/ocpp/protocol-errors.ts) must fall within these; reply-check.test.ts checks that.
 */
export const FRAMING_CODES: Record<
  Protocol,
  {
    readonly malformed: readonly string[];
    readonly tooDeep: readonly string[];
    readonly oversized: readonly string[];
    readonly unknownMessageType: readonly string[];
  }
> = {
  'ocpp1.6': {
    malformed: ['FormationViolation'],
    tooDeep: ['FormationViolation'],
    oversized: ['FormationViolation'],
    unknownMessageType: ['FormationViolation'],
  },
  'ocpp2.0.1': {
    malformed: ['RpcFrameworkError'],
    tooDeep: ['RpcFrameworkError', 'FormatViolation'],
    oversized: ['FormatViolation'],
    unknownMessageType: ['MessageTypeNotSupported'],
  },
};

/** The WebSocket close codes (RFC 6455 section 7.4.1) the fuzzer provokes or expects. */
export const CLOSE_INVALID_UTF8 = 1007;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TOO_BIG = 1009;

export type Prescription =
  | {
      readonly answer: 'reply';
      readonly rule: string;
      /** The message ids the reply may carry. */
      readonly ids: readonly string[];
      /** Whether a CALLRESULT is a right answer. */
      readonly result: boolean;
      /** The CALLERROR codes that are right answers. */
      readonly codes: readonly string[];
      /** Refused before any handler (framing): always a bad message for the gateway. */
      readonly framing: boolean;
    }
  | { readonly answer: 'none'; readonly rule: string }
  | { readonly answer: 'close'; readonly rule: string; readonly closeCode: number };

/** What happened after a frame: the next frame from the server, the connection closed, or nothing in time. */
export type Outcome =
  | { readonly kind: 'reply'; readonly text: string }
  | { readonly kind: 'closed'; readonly code: number }
  | { readonly kind: 'timeout' };

/** What a frame did to the gateway's count of bad messages in a row. */
export type BadMessageEffect = 'bad' | 'reset' | 'unchanged';

export type Judgement =
  | { readonly ok: true; readonly label: string; readonly effect: BadMessageEffect }
  | { readonly ok: false; readonly problem: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A message id a reply may carry: 1 to 36 characters (OCPP-J 1.6 section 4.1.4; 2.0.1 part 4 section 4.1.4). */
const isValidMessageId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= 36;

function parseFrame(data: string | Buffer): unknown {
  try {
    return JSON.parse(String(data));
  } catch {
    return undefined;
  }
}

/** The message id a frame carries: from the parsed array, or read from the start of text that is not JSON. */
function frameId(data: string | Buffer): { id?: unknown; parsed: boolean } {
  const frame = parseFrame(data);
  if (frame !== undefined) return { id: Array.isArray(frame) ? frame[1] : undefined, parsed: true };
  return { id: /^\s*\[\s*\d+\s*,\s*"([^"\\]*)"/.exec(String(data).slice(0, 128))?.[1], parsed: false };
}

/**
 * The ids a reply to a frame that is not a valid OCPP-J message may carry. A frame with a valid message id gets its
 * own id back (the station can match it); one whose id is missing or not a string gets "-1" (OCPP-J: the id could
 * not be read). An id that is a string but not a valid one (empty, longer than 36) may come back as "-1" or as far
 * as a reply can carry it (its first 36 characters). From text that is not JSON the id is read best-effort, so "-1"
 * is right there too.
 */
function framingReplyIds(data: string | Buffer): string[] {
  const { id, parsed } = frameId(data);
  if (isValidMessageId(id)) return parsed ? [id] : [id, '-1'];
  if (typeof id === 'string') return ['-1', id.slice(0, 36)];
  return ['-1'];
}

function callAction(data: string | Buffer): unknown {
  const frame = parseFrame(data);
  return Array.isArray(frame) ? frame[2] : undefined;
}

/** What the protocol prescribes for a generated frame. Throws for a kind it does not know: define its rule here. */
export function prescribe(protocol: Protocol, frame: FuzzFrame): Prescription {
  const framing = FRAMING_CODES[protocol];
  const call = (rule: string, result: boolean, codes: readonly string[]): Prescription => {
    if (frame.callId === undefined) throw new Error(`a ${frame.kind} frame must be a CALL with an id`);
    return { answer: 'reply', rule, ids: [frame.callId], result, codes, framing: false };
  };
  const refused = (rule: string, codes: readonly string[]): Prescription => ({
    answer: 'reply',
    rule,
    ids: framingReplyIds(frame.data),
    result: false,
    codes,
    framing: true,
  });
  switch (frame.kind) {
    case 'heartbeat':
      return call('a valid Heartbeat gets a CALLRESULT', true, []);
    case 'valid':
      // An empty payload: valid for Heartbeat only; every other action has required properties.
      return callAction(frame.data) === 'Heartbeat'
        ? call('a valid Heartbeat gets a CALLRESULT', true, [])
        : call('an empty payload for an action with required properties gets OccurrenceConstraintViolation', false, [
            ...OCCURRENCE_CODES[protocol],
          ]);
    case 'transaction-out-of-order':
      // Schema-valid; a transaction message the CSMS cannot place is still acknowledged (the station would
      // otherwise retry it forever).
      return call('a schema-valid transaction message gets a CALLRESULT, even for an unknown transaction', true, []);
    case 'mutated-payload':
      // One value replaced: the schema may still hold (CALLRESULT), or not (a constraint code); a value the schema
      // allows but Voltbill cannot store is PropertyConstraintViolation (src/ocpp/value-rules.ts, data-error.ts).
      return call(
        'a mutated payload gets a CALLRESULT or a constraint-violation code',
        true,
        CONSTRAINT_CODES[protocol],
      );
    case 'huge-number':
    case 'prototype-pollution':
      // Both carry properties their action's schema does not have (additionalProperties: false) besides the hostile
      // values: never a CALLRESULT.
      return call(
        `a ${frame.kind} payload breaks its schema: a constraint-violation code`,
        false,
        CONSTRAINT_CODES[protocol],
      );
    case 'wrong-payload-type':
      return call('a payload that is not an object gets TypeConstraintViolation', false, ['TypeConstraintViolation']);
    case 'unknown-action':
      return call('an action the version does not define gets NotImplemented', false, ['NotImplemented']);
    case 'not-json':
    case 'type-id-not-number':
    case 'bad-message-id':
    case 'bad-call-shape':
      return refused(
        `a frame that is not [type, messageId, ...] gets ${framing.malformed.join(' or ')}`,
        framing.malformed,
      );
    case 'deep-nesting':
      return refused(`a frame nested too deep gets ${framing.tooDeep.join(' or ')}`, framing.tooDeep);
    case 'oversized':
      return refused(`a frame over the size limit gets ${framing.oversized.join(' or ')}`, framing.oversized);
    case 'wrong-type-id':
      return refused(
        `a message type other than 2, 3, 4 gets ${framing.unknownMessageType.join(' or ')}`,
        framing.unknownMessageType,
      );
    case 'callresult-unknown-id':
    case 'callerror-unknown-id':
      return { answer: 'none', rule: 'a CALLRESULT or CALLERROR is never answered' };
    case 'invalid-utf8':
      return {
        answer: 'close',
        rule: 'a text frame with invalid UTF-8 closes the connection',
        closeCode: CLOSE_INVALID_UTF8,
      };
    case 'over-ws-ceiling':
      return {
        answer: 'close',
        rule: 'a frame over the WebSocket ceiling closes the connection',
        closeCode: CLOSE_TOO_BIG,
      };
    default:
      throw new Error(`no prescribed reply for frames of kind ${frame.kind}: add its rule to reply-check.ts`);
  }
}

/** The prescription after the bad message that passes VOLTBILL_OCPP_MAX_BAD_MESSAGES: the gateway closes (1008). */
export function badMessagesClose(maxBadMessages: number): Prescription {
  return {
    answer: 'close',
    rule: `more than ${maxBadMessages} bad messages in a row close the connection`,
    closeCode: CLOSE_POLICY_VIOLATION,
  };
}

export type CheckedFrame =
  | { ok: true; kind: 'result' | 'error' | 'server-call'; id: string; label: string; frame: unknown[] }
  | { ok: false; problem: string };

/** Whether a frame from the server is well-formed OCPP-J with a code its version defines, whatever it answers. */
export function checkReply(protocol: Protocol, text: string): CheckedFrame {
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

/** Schema validation (ocpp-rpc strict mode) sends the schema's errors as the CALLERROR's details. */
const isSchemaError = (frame: unknown[]) => isObject(frame[4]) && Array.isArray(frame[4].errors);

/** Checks what the server did after `frame` against what the protocol prescribes for it. */
export function judge(protocol: Protocol, frame: FuzzFrame, prescription: Prescription, outcome: Outcome): Judgement {
  const what = `${frame.kind} frame (${prescription.rule})`;
  if (outcome.kind === 'timeout') {
    if (prescription.answer === 'none') return { ok: true, label: 'no reply', effect: 'bad' };
    const expected = prescription.answer === 'reply' ? 'reply' : `close ${prescription.closeCode}`;
    return { ok: false, problem: `${what}: no ${expected} within the timeout` };
  }
  if (outcome.kind === 'closed') {
    if (prescription.answer === 'close' && outcome.code === prescription.closeCode) {
      return { ok: true, label: `close ${outcome.code}`, effect: 'unchanged' };
    }
    const expected = prescription.answer === 'close' ? `close ${prescription.closeCode}` : prescription.answer;
    return { ok: false, problem: `${what}: the server closed the connection (${outcome.code}); expected ${expected}` };
  }
  const checked = checkReply(protocol, outcome.text);
  if (!checked.ok) return { ok: false, problem: `${what}: ${checked.problem}` };
  const reply = outcome.text.slice(0, 200);
  if (prescription.answer !== 'reply') {
    const expected = prescription.answer === 'close' ? `close ${prescription.closeCode}` : 'no reply';
    return { ok: false, problem: `${what}: expected ${expected}, got ${reply}` };
  }
  if (checked.kind === 'server-call') return { ok: false, problem: `${what}: expected a reply, got ${reply}` };
  if (!prescription.ids.includes(checked.id)) {
    return {
      ok: false,
      problem: `${what}: reply under id ${JSON.stringify(checked.id)}, expected ${prescription.ids.map((id) => JSON.stringify(id)).join(' or ')}: ${reply}`,
    };
  }
  if (checked.kind === 'result') {
    if (!prescription.result) return { ok: false, problem: `${what}: got a CALLRESULT: ${reply}` };
    return { ok: true, label: 'CALLRESULT', effect: 'reset' };
  }
  if (!prescription.codes.includes(checked.label)) {
    return { ok: false, problem: `${what}: got CALLERROR ${checked.label}: ${reply}` };
  }
  // The gateway counts framing refusals, schema failures and unknown actions; a handler's own refusal (a value
  // Voltbill cannot store) neither counts nor resets.
  const bad = prescription.framing || isSchemaError(checked.frame) || checked.label === 'NotImplemented';
  return { ok: true, label: checked.label, effect: bad ? 'bad' : 'unchanged' };
}
