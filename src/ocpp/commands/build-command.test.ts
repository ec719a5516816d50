import { describe, expect, it } from 'vitest';
import { buildCommand } from './build-command.ts';

describe('remote command translation', () => {
  it('maps reset types across versions', () => {
    expect(buildCommand('ocpp1.6', 'reset', { type: 'Immediate' })).toEqual({
      ok: true,
      request: { method: 'Reset', params: { type: 'Hard' } },
    });
    expect(buildCommand('ocpp2.0.1', 'reset', {})).toEqual({
      ok: true,
      request: { method: 'Reset', params: { type: 'OnIdle' } },
    });
  });

  it('refuses input it cannot translate, with a reason', () => {
    const cases: [string, Parameters<typeof buildCommand>[1], Record<string, unknown>, string][] = [
      ['ocpp1.6', 'remote-stop', { transactionId: 'TX-1' }, 'transactionId of an OCPP 1.6 station is an integer'],
      ['ocpp1.6', 'remote-start', { evseId: 1, idTag: 'X'.repeat(21) }, 'idTag has at most 20 characters'],
      [
        'ocpp2.0.1',
        'get-configuration',
        { keys: ['HeartbeatInterval'] },
        `'HeartbeatInterval' is not "Component.Variable"`,
      ],
      ['ocpp2.0.1', 'change-availability', { operative: 'yes' }, 'operative must be true or false'],
      ['ocpp2.0.1', 'reset', { type: 'Sometimes' }, 'type is one of Soft, Hard, OnIdle, Immediate'],
    ];
    for (const [protocol, command, input, message] of cases) {
      expect(buildCommand(protocol, command, input)).toEqual({
        ok: false,
        error: { code: 'InvalidCommandInput', message },
      });
    }
  });
});
