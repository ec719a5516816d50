/**
 * The message log's batch INSERT on a real database (both): a batch goes as one parameter per column, its values
 * joined by a separator, and a batch with a value the joined form cannot carry (a separator inside, an empty string)
 * goes as arrays; both forms store every frame exactly as `toRow` split it, nulls as nulls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinFields } from '../src/db/joined-text.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { createMessageLog, type LoggedFrame } from '../src/ocpp/message-log.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const AT = new Date('2026-11-20T08:00:00.123Z');

describe('joinFields', () => {
  it('joins values by the record separator, a null as the unit separator', () => {
    expect(joinFields(['a', null, '{"b":"c d"}'])).toBe('a\u001e\u001f\u001e{"b":"c d"}');
    expect(joinFields([null])).toBe('\u001f');
  });

  it('refuses a value holding a separator, and the empty string', () => {
    expect(joinFields(['a', 'b\u001ec'])).toBeUndefined();
    expect(joinFields(['a\u001f'])).toBeUndefined();
    expect(joinFields(['a', ''])).toBeUndefined();
  });
});

describe.skipIf(skip)('the message log on a real database', () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase();
  });
  afterAll(async () => {
    await handle?.close();
  });

  const stored = (stationId: string) =>
    handle.db
      .selectFrom('ocpp_messages')
      .select(['direction', 'message_type', 'message_id', 'action', 'payload', 'raw', 'logged_at'])
      .where('station_id', '=', stationId)
      .orderBy('id')
      .execute();

  const frames = (stationId: string): LoggedFrame[] => {
    const call = '[2,"m-1","MeterValues",{"connectorId":1,"note":"a \\"quoted\\" \\\\ back, {braces}, NULL"}]';
    const result = '[3,"m-1",{}]';
    const error = '[4,"m-2","FormatViolation","bad \\"value\\"",{}]';
    return [
      { stationId, direction: 'in', text: call, at: AT, parsed: JSON.parse(call) },
      { stationId, direction: 'out', text: result, at: AT },
      { stationId, direction: 'out', text: error, at: AT },
      { stationId, direction: 'in', text: 'not json, "quoted", \\ and\nlines', at: AT },
    ];
  };

  const expected = [
    {
      direction: 'in',
      message_type: 2,
      message_id: 'm-1',
      action: 'MeterValues',
      payload: '{"connectorId":1,"note":"a \\"quoted\\" \\\\ back, {braces}, NULL"}',
      raw: null,
      logged_at: AT,
    },
    { direction: 'out', message_type: 3, message_id: 'm-1', action: null, payload: '{}', raw: null, logged_at: AT },
    {
      direction: 'out',
      message_type: 4,
      message_id: 'm-2',
      action: null,
      payload: '["FormatViolation","bad \\"value\\"",{}]',
      raw: null,
      logged_at: AT,
    },
    {
      direction: 'in',
      message_type: null,
      message_id: null,
      action: null,
      payload: null,
      raw: 'not json, "quoted", \\ and\nlines',
      logged_at: AT,
    },
  ];

  it('stores a batch joined, each value as the frame had it (quotes, backslashes, braces, the word NULL)', async () => {
    const log = createMessageLog(handle.db);
    for (const frame of frames('LOG-JOINED')) void log.append(frame);
    await log.flush();
    expect(await stored('LOG-JOINED')).toEqual(expected);
  });

  it('stores a batch whose values the joined form cannot carry as arrays, the same way', async () => {
    const log = createMessageLog(handle.db);
    for (const frame of frames('LOG-ARRAYS')) void log.append(frame);
    // A message id with a record separator and an empty one: the parsing path keeps both as they were sent.
    const odd = '[2,"a\\u001eb","Heartbeat",{}]';
    const empty = '[2,"","Heartbeat",{}]';
    void log.append({ stationId: 'LOG-ARRAYS', direction: 'in', text: odd, at: AT, parsed: JSON.parse(odd) });
    void log.append({ stationId: 'LOG-ARRAYS', direction: 'in', text: empty, at: AT, parsed: JSON.parse(empty) });
    await log.flush();
    expect(await stored('LOG-ARRAYS')).toEqual([
      ...expected,
      {
        direction: 'in',
        message_type: 2,
        message_id: 'a\u001eb',
        action: 'Heartbeat',
        payload: '{}',
        raw: null,
        logged_at: AT,
      },
      {
        direction: 'in',
        message_type: 2,
        message_id: '',
        action: 'Heartbeat',
        payload: '{}',
        raw: null,
        logged_at: AT,
      },
    ]);
  });

  it('stores a batch of one frame with nulls', async () => {
    const log = createMessageLog(handle.db);
    await log.append({ stationId: 'LOG-ONE', direction: 'in', text: '[', at: AT });
    expect(await stored('LOG-ONE')).toEqual([
      { direction: 'in', message_type: null, message_id: null, action: null, payload: null, raw: '[', logged_at: AT },
    ]);
  });
});
