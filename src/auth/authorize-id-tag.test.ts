import { describe, expect, it } from 'vitest';
import { authorizeIdTag } from './authorize-id-tag.ts';

const now = new Date('2026-11-25T10:00:00Z');

describe('authorizeIdTag', () => {
  it('refuses unknown, blocked, invalid and expired tokens', () => {
    expect(authorizeIdTag(undefined, now, false)).toEqual({ status: 'Invalid' });
    expect(authorizeIdTag({ status: 'Blocked', expiresAt: null }, now, false)).toEqual({ status: 'Blocked' });
    expect(authorizeIdTag({ status: 'Invalid', expiresAt: null }, now, false)).toEqual({ status: 'Invalid' });
    expect(authorizeIdTag({ status: 'Expired', expiresAt: null }, now, false)).toEqual({ status: 'Expired' });
    expect(authorizeIdTag({ status: 'Accepted', expiresAt: now }, now, false)).toEqual({ status: 'Expired' });
  });

  it('accepts a valid token with its expiry, unless it is charging elsewhere', () => {
    const later = new Date('2027-01-01T00:00:00Z');
    expect(authorizeIdTag({ status: 'Accepted', expiresAt: later }, now, false)).toEqual({
      status: 'Accepted',
      expiresAt: later,
    });
    expect(authorizeIdTag({ status: 'Accepted', expiresAt: null }, now, false)).toEqual({ status: 'Accepted' });
    expect(authorizeIdTag({ status: 'Accepted', expiresAt: null }, now, true)).toEqual({ status: 'ConcurrentTx' });
    expect(authorizeIdTag({ status: 'Blocked', expiresAt: null }, now, true)).toEqual({ status: 'Blocked' });
  });
});
