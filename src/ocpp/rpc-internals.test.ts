import { RPCClient } from 'ocpp-rpc';
import { describe, expect, it } from 'vitest';

// The gateway's frame guard (gateway.ts, guardFrames) replaces ocpp-rpc's `_onMessage` and hands checked CALLs to
// its `_onCall`; without these the guard still works, but every frame is parsed twice. An ocpp-rpc upgrade that
// renames them fails here instead of silently costing throughput.
describe('ocpp-rpc internals the gateway relies on', () => {
  it('has _onMessage, _onCall and _deferNextPing on its client', () => {
    const prototype = RPCClient.prototype as unknown as Record<string, unknown>;
    expect(typeof prototype._onMessage).toBe('function');
    expect(typeof prototype._onCall).toBe('function');
    expect(typeof prototype._deferNextPing).toBe('function');
    expect((prototype._onCall as (...args: unknown[]) => unknown).length).toBe(3);
  });
});
