import { describe, expect, it } from 'vitest';
import { type LoggedFrame, payloadSlice, toRow } from './message-log.ts';

const at = new Date('2026-11-26T05:00:00Z');
const frame = (text: string, direction: 'in' | 'out' = 'out', parsed?: unknown): LoggedFrame => ({
  stationId: 'CP-1',
  direction,
  text,
  at,
  ...(parsed !== undefined && { parsed }),
});

describe('payloadSlice (the message log without a second parse)', () => {
  it('cuts the payload of compact CALL and CALLRESULT frames out of their text', () => {
    expect(payloadSlice('[2,"m-1","MeterValues",{"connectorId":1,"meterValue":[{"a":"}]"}]}]')).toEqual({
      message_type: 2,
      message_id: 'm-1',
      action: 'MeterValues',
      payload: '{"connectorId":1,"meterValue":[{"a":"}]"}]}',
    });
    expect(payloadSlice('[3,"m-1",{}]')).toEqual({ message_type: 3, message_id: 'm-1', action: null, payload: '{}' });
  });

  it('leaves every other shape to the parser', () => {
    for (const text of [
      '[2, "m-1", "Heartbeat", {}]', // whitespace
      '[2,"m-1","Heartbeat",{},5]', // an extra element
      '[3,"m-1",{}],', // trailing text
      '[3,"m\\"1",{}]', // an escape in the id
      '[4,"m-1","GenericError","x",{}]', // an error
      '[3,"m-1",{"a":"\\"}"}]x', // not ending in ]
      '[2,"m-1",{}]', // a CALL without an action
      '[3,"m-1","Heartbeat",{}]', // a result with one
    ]) {
      expect(payloadSlice(text), text).toBeUndefined();
    }
  });

  it('gives the same row as the parsing path', () => {
    const texts = [
      '[2,"abc","StatusNotification",{"connectorId":1,"status":"Charging","info":"a \\"quoted\\" {brace}"}]',
      '[3,"abc",{"idTagInfo":{"status":"Accepted"},"transactionId":42}]',
      '[3,"abc",{"nested":[[1,2],{"x":[]}],"s":"]}\\\\"}]',
    ];
    for (const text of texts) {
      const fast = toRow(frame(text));
      const parsed = JSON.parse(text) as unknown[];
      const slow = toRow(frame(` ${text}`)); // a leading space takes the parsing path
      expect(fast.raw).toBeNull();
      expect(fast.message_type).toBe(slow.message_type);
      expect(fast.message_id).toBe(slow.message_id);
      expect(fast.action).toBe(slow.action);
      expect(JSON.parse(fast.payload as string)).toEqual(JSON.parse(slow.payload as string));
      expect(JSON.parse(fast.payload as string)).toEqual(parsed[parsed.length - 1]);
    }
  });

  it('never trusts an inbound frame the gateway did not parse as JSON', () => {
    const invalid = '[2,"m-1","MeterValues",{"connectorId":nope}]';
    expect(payloadSlice(invalid)).toBeDefined();
    const row = toRow(frame(invalid, 'in'));
    expect(row).toMatchObject({ message_type: null, payload: null, raw: invalid });
    const valid = '[2,"m-1","Heartbeat",{}]';
    expect(toRow(frame(valid, 'in', JSON.parse(valid)))).toMatchObject({
      message_type: 2,
      action: 'Heartbeat',
      payload: '{}',
      raw: null,
    });
  });

  it('keeps a frame whose message type id is not a smallint integer as raw text (it would fail its batch)', () => {
    for (const text of ['[2.5,"m-1","Heartbeat",{}]', '[1e308,"m-1","Heartbeat",{}]', '[-1,"m-1","Heartbeat",{}]']) {
      expect(toRow(frame(text, 'in', JSON.parse(text)))).toMatchObject({
        message_type: null,
        payload: null,
        raw: text,
      });
    }
  });

  it('keeps a frame with an escaped NUL as payload text (the column is text, migration 0013)', () => {
    const text = '[3,"m-1",{"a":"\\u0000"}]';
    expect(toRow(frame(text))).toMatchObject({ message_type: 3, payload: '{"a":"\\u0000"}', raw: null });
  });

  it('cuts an inbound payload by the element count of its parsed form, and refuses a count that does not fit', () => {
    const text = '[2,"m-1","MeterValues",{"connectorId":1,"s":"}]"}]';
    expect(payloadSlice(text, 4)).toEqual({
      message_type: 2,
      message_id: 'm-1',
      action: 'MeterValues',
      payload: '{"connectorId":1,"s":"}]"}',
    });
    expect(payloadSlice(text, 3)).toBeUndefined();
    // Two objects after the header: valid JSON with five elements, never sliced as one payload.
    const two = '[2,"m-1","Heartbeat",{},{}]';
    const row = toRow(frame(two, 'in', JSON.parse(two)));
    expect(row).toMatchObject({ message_type: 2, action: 'Heartbeat', payload: '{}', raw: null });
    expect(payloadSlice('[3,"m-1",{} ]', 3)).toBeUndefined();
    const spaced = '[3,"m-1",{"a":1} ]';
    expect(toRow(frame(spaced, 'in', JSON.parse(spaced)))).toMatchObject({ message_type: 3, payload: '{"a":1}' });
  });
});
