/** The OCPP versions a load run speaks, and how `mixed` assigns them to stations. */
export type LoadProtocol = 'ocpp1.6' | 'ocpp2.0.1';
export type LoadProtocolChoice = LoadProtocol | 'mixed';

export const LOAD_PROTOCOL_CHOICES: readonly LoadProtocolChoice[] = ['ocpp1.6', 'ocpp2.0.1', 'mixed'];

/** `mixed`: odd-numbered stations speak 1.6, even-numbered ones 2.0.1 (half each, deterministic). */
export function protocolOfStation(choice: LoadProtocolChoice, stationNumber: number): LoadProtocol {
  if (choice !== 'mixed') return choice;
  return stationNumber % 2 === 1 ? 'ocpp1.6' : 'ocpp2.0.1';
}
