/**
 * The fuzzer's reply check (reply-check.ts): each rule fails on the wrong outcome and passes the right one, so that
 * a regression in the gateway's replies fails the fuzz run.
 */
import { describe, expect, it } from 'vitest';
import { GUARD_ERROR_CODES } from '../../src/ocpp/protocol-errors.ts';
import { type FuzzFrame, frameGenerator, mulberry32, type Protocol } from './fuzz-frames.ts';
import { badMessagesClose, FRAMING_CODES, type Judgement, judge, type Outcome, prescribe } from './reply-check.ts';

const PROTOCOLS: Protocol[] = ['ocpp1.6', 'ocpp2.0.1'];

const call = (kind: string, id: string, action: string, payload: unknown): FuzzFrame => ({
  kind,
  data: JSON.stringify([2, id, action, payload]),
  callId: id,
});
const raw = (kind: string, data: string): FuzzFrame => ({ kind, data });

const result = (id: string, payload: object = {}): Outcome => ({
  kind: 'reply',
  text: JSON.stringify([3, id, payload]),
});
const error = (id: string, code: string, details: object = {}): Outcome => ({
  kind: 'reply',
  text: JSON.stringify([4, id, code, 'description', details]),
});
/** A constraint error as ocpp-rpc's schema validation sends it: the schema's errors in the details. */
const schemaError = (id: string, code: string): Outcome =>
  error(id, code, { errors: [{ keyword: 'type' }], data: null });
const closed = (code: number): Outcome => ({ kind: 'closed', code });
const timeout: Outcome = { kind: 'timeout' };

function check(protocol: Protocol, frame: FuzzFrame, outcome: Outcome): Judgement {
  return judge(protocol, frame, prescribe(protocol, frame), outcome);
}
const passes = (judgement: Judgement) => expect(judgement, JSON.stringify(judgement)).toMatchObject({ ok: true });
const fails = (judgement: Judgement) => expect(judgement, JSON.stringify(judgement)).toMatchObject({ ok: false });

/** One frame of every kind the generator makes, per protocol, each with a reply the protocol prescribes for it. */
function everyKind(protocol: Protocol): Map<string, FuzzFrame> {
  const frames = frameGenerator(protocol, 1, mulberry32(42), 2048);
  const byKind = new Map<string, FuzzFrame>();
  for (let i = 0; i < 5000 && byKind.size < 19; i++) {
    const frame = frames.next();
    if (!byKind.has(frame.kind)) byKind.set(frame.kind, frame);
  }
  return byKind;
}

describe.each(PROTOCOLS)('reply check, %s', (protocol) => {
  const framing = FRAMING_CODES[protocol];

  it('has a rule for every kind of frame the generator makes', () => {
    const kinds = everyKind(protocol);
    expect(kinds.size).toBe(19);
    for (const frame of kinds.values()) expect(() => prescribe(protocol, frame)).not.toThrow();
    expect(() => prescribe(protocol, raw('something-new', '[]'))).toThrow(/no prescribed reply/);
  });

  it('never accepts InternalError or GenericError, for any kind of frame', () => {
    for (const frame of everyKind(protocol).values()) {
      const prescription = prescribe(protocol, frame);
      const id = prescription.answer === 'reply' ? (prescription.ids[0] as string) : 'x';
      for (const code of ['InternalError', 'GenericError']) {
        fails(judge(protocol, frame, prescription, error(id, code)));
        fails(judge(protocol, frame, prescription, schemaError(id, code)));
      }
    }
  });

  it('never accepts a close or silence where a reply is due, for any kind of frame that prescribes one', () => {
    let replyKinds = 0;
    for (const frame of everyKind(protocol).values()) {
      const prescription = prescribe(protocol, frame);
      if (prescription.answer !== 'reply') continue;
      replyKinds++;
      fails(judge(protocol, frame, prescription, closed(1008)));
      fails(judge(protocol, frame, prescription, closed(1000)));
      fails(judge(protocol, frame, prescription, timeout));
    }
    expect(replyKinds).toBe(15);
  });

  it('a Heartbeat: a CALLRESULT under its id, nothing else', () => {
    const frame = call('heartbeat', 'h1', 'Heartbeat', {});
    passes(check(protocol, frame, result('h1', { currentTime: '2026-01-01T00:00:00Z' })));
    expect(check(protocol, frame, result('h1'))).toMatchObject({ effect: 'reset' });
    fails(check(protocol, frame, result('h2')));
    fails(check(protocol, frame, error('h1', 'NotImplemented')));
    fails(check(protocol, frame, { kind: 'reply', text: '[3,"h1"]' }));
    fails(check(protocol, frame, { kind: 'reply', text: 'not json' }));
    fails(check(protocol, frame, { kind: 'reply', text: JSON.stringify([2, 'server-1', 'Reset', {}]) }));
  });

  it('an empty payload: CALLRESULT for Heartbeat, OccurrenceConstraintViolation for an action with required properties', () => {
    passes(check(protocol, call('valid', 'v1', 'Heartbeat', {}), result('v1')));
    fails(check(protocol, call('valid', 'v1', 'Heartbeat', {}), schemaError('v1', 'OccurrenceConstraintViolation')));
    const boot = call('valid', 'v2', 'BootNotification', {});
    expect(check(protocol, boot, schemaError('v2', 'OccurrenceConstraintViolation'))).toMatchObject({ effect: 'bad' });
    fails(check(protocol, boot, result('v2')));
    fails(check(protocol, boot, schemaError('v2', 'TypeConstraintViolation')));
  });

  it('a payload of the wrong type: TypeConstraintViolation only', () => {
    const frame = call('wrong-payload-type', 'w1', 'Authorize', null);
    expect(check(protocol, frame, schemaError('w1', 'TypeConstraintViolation'))).toMatchObject({
      ok: true,
      effect: 'bad',
    });
    fails(check(protocol, frame, result('w1')));
    fails(check(protocol, frame, schemaError('w1', 'PropertyConstraintViolation')));
    fails(check(protocol, frame, error('w1', 'NotImplemented')));
  });

  it('a mutated payload: a CALLRESULT or a constraint-violation code; a handler refusal does not count as bad', () => {
    const frame = call('mutated-payload', 'm1', 'StatusNotification', { connectorId: 'x' });
    expect(check(protocol, frame, result('m1'))).toMatchObject({ ok: true, effect: 'reset' });
    expect(check(protocol, frame, schemaError('m1', 'TypeConstraintViolation'))).toMatchObject({ effect: 'bad' });
    // src/ocpp/value-rules.ts and data-error.ts: the schema holds, the handler refuses the value (not counted).
    expect(check(protocol, frame, error('m1', 'PropertyConstraintViolation'))).toMatchObject({
      ok: true,
      effect: 'unchanged',
    });
    fails(check(protocol, frame, error('m1', 'SecurityError')));
    fails(check(protocol, frame, error('m1', 'NotSupported')));
    fails(check(protocol, frame, error('m1', protocol === 'ocpp1.6' ? 'FormatViolation' : 'FormationViolation')));
  });

  it('frames that always break their schema (huge numbers, __proto__ keys) never get a CALLRESULT', () => {
    for (const kind of ['huge-number', 'prototype-pollution']) {
      const frame = raw(kind, '[2,"p1","Heartbeat",{"__proto__":{"polluted":true}}]');
      const withId = { ...frame, callId: 'p1' };
      passes(check(protocol, withId, schemaError('p1', 'PropertyConstraintViolation')));
      fails(check(protocol, withId, result('p1')));
    }
  });

  it('a transaction message for an unknown transaction: a CALLRESULT', () => {
    const frame = call('transaction-out-of-order', 't1', 'MeterValues', {});
    passes(check(protocol, frame, result('t1')));
    fails(check(protocol, frame, error('t1', 'PropertyConstraintViolation')));
  });

  it('an unknown action: NotImplemented', () => {
    const frame = call('unknown-action', 'u1', 'Fuzz', {});
    expect(check(protocol, frame, error('u1', 'NotImplemented'))).toMatchObject({ ok: true, effect: 'bad' });
    fails(check(protocol, frame, error('u1', 'NotSupported')));
    fails(check(protocol, frame, result('u1')));
  });

  it('not JSON: the malformed code under the id it starts with or -1; never a CALLRESULT', () => {
    const [malformed] = framing.malformed as [string];
    const broken = raw('not-json', '[2,"a",');
    expect(check(protocol, broken, error('a', malformed))).toMatchObject({ ok: true, effect: 'bad' });
    passes(check(protocol, broken, error('-1', malformed)));
    fails(check(protocol, broken, error('b', malformed)));
    fails(check(protocol, broken, result('a')));
    fails(check(protocol, broken, result('-1')));
    const garbage = raw('not-json', 'garbage');
    passes(check(protocol, garbage, error('-1', malformed)));
    fails(check(protocol, garbage, result('-1')));
    fails(check(protocol, garbage, error('-1', 'NotImplemented')));
    fails(check(protocol, raw('not-json', 'null'), error('null', malformed)));
  });

  it('a frame that is not [type, messageId, ...]: the malformed code under its id, or -1 when it has none', () => {
    const [malformed] = framing.malformed as [string];
    const typeNotNumber = raw('type-id-not-number', JSON.stringify(['2', 'f1-9', 'X', {}]));
    passes(check(protocol, typeNotNumber, error('f1-9', malformed)));
    fails(check(protocol, typeNotNumber, error('-1', malformed)));
    fails(check(protocol, typeNotNumber, result('f1-9')));
    const numericId = raw('bad-message-id', JSON.stringify([2, 12, 'Heartbeat', {}]));
    passes(check(protocol, numericId, error('-1', malformed)));
    fails(check(protocol, numericId, error('12', malformed)));
    fails(check(protocol, numericId, result('-1')));
    const longId = raw('bad-message-id', JSON.stringify([2, 'x'.repeat(37), 'Heartbeat', {}]));
    passes(check(protocol, longId, error('x'.repeat(36), malformed)));
    passes(check(protocol, longId, error('-1', malformed)));
    fails(check(protocol, longId, result('x'.repeat(36))));
  });

  it('a CALL not shaped [2, id, action, payload]: the malformed code under its id, never processed', () => {
    const [malformed] = framing.malformed as [string];
    const numericAction = raw('bad-call-shape', JSON.stringify([2, 'f1-7', 5, {}]));
    passes(check(protocol, numericAction, error('f1-7', malformed)));
    // ocpp-rpc's own answer before the gateway refused such frames: an OCPP 1.6 station does not know the code.
    if (malformed !== 'RpcFrameworkError') fails(check(protocol, numericAction, error('f1-7', 'RpcFrameworkError')));
    const extra = raw('bad-call-shape', JSON.stringify([2, 'f1-8', 'Heartbeat', {}, 1]));
    passes(check(protocol, extra, error('f1-8', malformed)));
    fails(check(protocol, extra, result('f1-8', { currentTime: '2026-01-01T00:00:00Z' })));
  });

  it('an unknown message type id, a frame too deep, a frame too big: their codes under the frame id', () => {
    const [unknownType] = framing.unknownMessageType as [string];
    const wrongType = raw('wrong-type-id', JSON.stringify([5, 'f1-1', 'Heartbeat', {}]));
    passes(check(protocol, wrongType, error('f1-1', unknownType)));
    fails(check(protocol, wrongType, result('f1-1')));
    const deep = {
      kind: 'deep-nesting',
      data: `[2,"f1-2","DataTransfer",{"data":${'['.repeat(40)}${']'.repeat(40)}}]`,
      callId: 'f1-2',
    };
    for (const code of framing.tooDeep) passes(check(protocol, deep, error('f1-2', code)));
    fails(check(protocol, deep, result('f1-2')));
    fails(check(protocol, deep, error('f1-2', 'NotImplemented')));
    const big = {
      kind: 'oversized',
      data: `[2,"f1-3","DataTransfer",{"vendorId":"x","data":"${'x'.repeat(100)}"}]`,
      callId: 'f1-3',
    };
    expect(check(protocol, big, error('f1-3', framing.oversized[0] as string))).toMatchObject({
      ok: true,
      effect: 'bad',
    });
    fails(check(protocol, big, error('-1', framing.oversized[0] as string)));
    fails(check(protocol, big, result('f1-3')));
  });

  it('a CALLRESULT or CALLERROR for an unknown id: no reply at all', () => {
    const frame = raw('callresult-unknown-id', JSON.stringify([3, 'nope-1', { status: 'Accepted' }]));
    expect(check(protocol, frame, timeout)).toMatchObject({ ok: true, effect: 'bad' });
    fails(check(protocol, frame, error('nope-1', framing.malformed[0] as string)));
    fails(check(protocol, frame, error('nope-1', 'RpcFrameworkError')));
    fails(check(protocol, frame, closed(1008)));
    const callError = raw('callerror-unknown-id', JSON.stringify([4, 'nope-2', 'GenericError', 'fuzz', {}]));
    fails(check(protocol, callError, error('nope-2', 'GenericError')));
  });

  it('invalid UTF-8 and frames over the WebSocket ceiling: their close code, no reply', () => {
    const utf8 = raw('invalid-utf8', '[2,"f1-4","DataTransfer",{"vendorId":"?"}]');
    passes(check(protocol, utf8, closed(1007)));
    fails(check(protocol, utf8, closed(1009)));
    fails(check(protocol, utf8, closed(1006)));
    fails(check(protocol, utf8, error('f1-4', framing.malformed[0] as string)));
    fails(check(protocol, utf8, timeout));
    const huge = raw('over-ws-ceiling', '[2,"f1-5","DataTransfer",{}]');
    passes(check(protocol, huge, closed(1009)));
    fails(check(protocol, huge, closed(1007)));
    fails(check(protocol, huge, result('f1-5')));
  });

  it('the bad-messages limit: only the 1008 close', () => {
    const frame = raw('not-json', 'garbage');
    passes(judge(protocol, frame, badMessagesClose(20), closed(1008)));
    fails(judge(protocol, frame, badMessagesClose(20), closed(1000)));
    fails(judge(protocol, frame, badMessagesClose(20), timeout));
    fails(judge(protocol, frame, badMessagesClose(20), error('-1', framing.malformed[0] as string)));
  });

  it("the gateway's framing codes are among the ones the check allows", () => {
    const gateway = GUARD_ERROR_CODES[protocol];
    expect(framing.malformed).toContain(gateway?.malformed);
    expect(framing.tooDeep).toContain(gateway?.malformed);
    expect(framing.oversized).toContain(gateway?.oversized);
    expect(framing.unknownMessageType).toContain(gateway?.unknownMessageType);
  });
});

describe('version-specific codes', () => {
  it('a code the other version defines is a violation', () => {
    const frame = raw('wrong-type-id', JSON.stringify([5, 'f1-1', 'Heartbeat', {}]));
    fails(check('ocpp1.6', frame, error('f1-1', 'MessageTypeNotSupported')));
    fails(check('ocpp2.0.1', frame, error('f1-1', 'FormationViolation')));
    fails(check('ocpp1.6', raw('not-json', 'garbage'), error('-1', 'RpcFrameworkError')));
    // 2.0.1 spells it with two r's; 1.6 accepts both (its spec's typo, corrected by errata v1.0 section 5).
    const empty = call('valid', 'v1', 'Authorize', {});
    fails(check('ocpp2.0.1', empty, schemaError('v1', 'OccurenceConstraintViolation')));
    passes(check('ocpp1.6', empty, schemaError('v1', 'OccurenceConstraintViolation')));
    passes(check('ocpp1.6', empty, schemaError('v1', 'OccurrenceConstraintViolation')));
  });
});
