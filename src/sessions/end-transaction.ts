/**
 * The pure decision taken when a transaction ends: the billed energy (meterStop - meterStart, exact Wh) and the
 * findings that decide whether it can be billed automatically.
 */
import type { Finding } from './finding.ts';

export type EndDecision = {
  /** Billed energy in Wh, or null when the meter readings cannot be billed (see findings). */
  readonly energyWh: bigint | null;
  readonly findings: readonly Finding[];
};

export type EndInput = {
  readonly meterStartWh: bigint;
  readonly meterStopWh: bigint;
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly startIdTag: string;
  readonly stopIdTag: string | undefined;
};

export function decideEnd(input: EndInput): EndDecision {
  const findings: Finding[] = [];
  let energyWh: bigint | null = input.meterStopWh - input.meterStartWh;
  if (energyWh < 0n) {
    findings.push({
      code: 'MeterWentBackwards',
      severity: 'hold',
      message: `meterStop ${input.meterStopWh} Wh is below meterStart ${input.meterStartWh} Wh; not billed`,
    });
    energyWh = null;
  }
  if (input.endedAt.getTime() < input.startedAt.getTime()) {
    findings.push({
      code: 'SampleOutsideSession',
      severity: 'hold',
      message: `stop time ${input.endedAt.toISOString()} is before start time ${input.startedAt.toISOString()}`,
    });
  }
  if (input.stopIdTag !== undefined && input.stopIdTag.toUpperCase() !== input.startIdTag.toUpperCase()) {
    findings.push({
      code: 'StopIdTagDiffers',
      severity: 'info',
      message: `stopped with idTag ${input.stopIdTag}, started with ${input.startIdTag}`,
    });
  }
  return { energyWh, findings };
}
