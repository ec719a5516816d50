import { describe, expect, it } from 'vitest';
import { addressKey, createWebhookRefusalGate } from './webhook-refusal-gate.ts';

describe('webhook refusal gate', () => {
  it('answers 0 for the first refusals of a minute, then the seconds to its end, and starts again next minute', async () => {
    const gate = createWebhookRefusalGate(3);
    const at = new Date('2026-11-27T12:00:10.000Z');
    const answers = [];
    for (let n = 0; n < 5; n++) answers.push(await gate.refused('203.0.113.7', at));
    expect(answers).toEqual([0, 0, 0, 50, 50]);
    expect(await gate.refused('203.0.113.8', at)).toBe(0);
    expect(await gate.refused('203.0.113.7', new Date('2026-11-27T12:01:00.000Z'))).toBe(0);
  });

  it('counts IPv6 addresses by their /64 and IPv4 (also IPv4-mapped) addresses whole', async () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('::ffff:203.0.113.7');
    const gate = createWebhookRefusalGate(2);
    const at = new Date('2026-11-27T12:00:00.000Z');
    await gate.refused('2001:db8:1:2::a', at);
    await gate.refused('2001:db8:1:2::b', at);
    expect(await gate.refused('2001:db8:1:2::c', at)).toBe(60);
    expect(await gate.refused('2001:db8:1:3::c', at)).toBe(0);
  });
});
