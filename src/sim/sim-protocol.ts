/** The OCPP versions the simulator speaks, and how `mixed` assigns them (the load generator uses the same rule). */
export type SimProtocol = 'ocpp1.6' | 'ocpp2.0.1';
export type SimProtocolChoice = SimProtocol | 'mixed';

export const SIM_PROTOCOL_CHOICES: readonly SimProtocolChoice[] = ['ocpp1.6', 'ocpp2.0.1', 'mixed'];

/** `mixed`: odd-numbered stations speak 1.6, even-numbered ones 2.0.1. */
export function protocolOfSimStation(choice: SimProtocolChoice, stationNumber: number): SimProtocol {
  if (choice !== 'mixed') return choice;
  return stationNumber % 2 === 1 ? 'ocpp1.6' : 'ocpp2.0.1';
}
