import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../db/schema.ts';
import { receive } from './cluster-messages.ts';
import { nodeChannel, resolveNodeId } from './node-id.ts';

// Inline payloads never touch the database; a reference would (covered by test/cluster-scale-out.test.ts).
const noDatabase = {} as Kysely<Database>;

describe('cluster messages', () => {
  it('accepts the message shapes nodes send and nothing else', async () => {
    const up = { t: 'up', stations: ['DEMO-0001', 'DEMO-0002'], node: 'node_a', at: '2026-11-26T05:00:00.000Z' };
    expect(await receive(noDatabase, JSON.stringify(up))).toEqual(up);
    const down = { t: 'down', stations: ['DEMO-0001'], node: 'node_a' };
    expect(await receive(noDatabase, JSON.stringify(down))).toEqual(down);
    // The single-station shape of earlier versions, an up without its time, too many stations, non-string ids.
    expect(await receive(noDatabase, JSON.stringify({ t: 'up', station: 'DEMO-0001', node: 'a', at: up.at }))).toBe(
      undefined,
    );
    expect(await receive(noDatabase, JSON.stringify({ t: 'up', stations: ['A'], node: 'a' }))).toBeUndefined();
    const tooMany = Array.from({ length: 101 }, (_, i) => `S${i}`);
    expect(await receive(noDatabase, JSON.stringify({ ...down, stations: tooMany }))).toBeUndefined();
    expect(await receive(noDatabase, JSON.stringify({ ...down, stations: [1] }))).toBeUndefined();
    expect(await receive(noDatabase, JSON.stringify({ t: 'ack', id: 'x' }))).toEqual({ t: 'ack', id: 'x' });
    expect(await receive(noDatabase, 'not json')).toBeUndefined();
    expect(await receive(noDatabase, JSON.stringify({ t: 'evil' }))).toBeUndefined();
    expect(await receive(noDatabase, JSON.stringify({ t: 'ref', id: '1; drop table x' }))).toBeUndefined();
    expect(await receive(noDatabase, 'null')).toBeUndefined();
  });

  it('names nodes and their channels within PostgreSQL identifier limits', () => {
    expect(resolveNodeId('node_b')).toBe('node_b');
    expect(resolveNodeId(undefined)).toMatch(/^node_[0-9a-f]{10}$/);
    expect(resolveNodeId(undefined)).not.toBe(resolveNodeId(undefined));
    expect(nodeChannel('a'.repeat(40)).length).toBeLessThanOrEqual(63);
  });
});
