/**
 * ISO 3166-1 alpha-3 (as OCPI locations store it) to alpha-2 (as EN 16931 wants it), for the countries where
 * Voltbill operators charge today: the EU, the EEA, the UK, Switzerland and North America. An unknown code is
 * returned as undefined and the caller decides (never a guess).
 */
const ALPHA3_TO_ALPHA2: Readonly<Record<string, string>> = Object.freeze({
  AUT: 'AT',
  BEL: 'BE',
  BGR: 'BG',
  HRV: 'HR',
  CYP: 'CY',
  CZE: 'CZ',
  DNK: 'DK',
  EST: 'EE',
  FIN: 'FI',
  FRA: 'FR',
  DEU: 'DE',
  GRC: 'GR',
  HUN: 'HU',
  IRL: 'IE',
  ITA: 'IT',
  LVA: 'LV',
  LTU: 'LT',
  LUX: 'LU',
  MLT: 'MT',
  NLD: 'NL',
  POL: 'PL',
  PRT: 'PT',
  ROU: 'RO',
  SVK: 'SK',
  SVN: 'SI',
  ESP: 'ES',
  SWE: 'SE',
  ISL: 'IS',
  LIE: 'LI',
  NOR: 'NO',
  GBR: 'GB',
  CHE: 'CH',
  USA: 'US',
  CAN: 'CA',
  MEX: 'MX',
});

export function alpha2FromAlpha3(alpha3: string): string | undefined {
  return ALPHA3_TO_ALPHA2[alpha3];
}
