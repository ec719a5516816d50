import type { SeedReport } from '../seed/seed-demo.ts';

/** What the first start tells the operator it created, with the next commands to try. */
export function formatSeedReport(seed: SeedReport, ocppUrl: string, httpUrl: string): string[] {
  return [
    'First start: created demo data',
    `  operator        Voltbill Demo CPO (${seed.operatorId})`,
    `  location        Demo Charging Park, Berlin (Europe/Berlin)`,
    `  stations        ${seed.stationIds[0]} .. ${seed.stationIds[seed.stationIds.length - 1]} (22 kW AC, one EVSE each)`,
    `  RFID cards      ${seed.idTags.map((t) => (t.status === 'Accepted' ? t.uid : `${t.uid} (${t.status})`)).join(', ')}`,
    `  tariff          ${seed.tariffCode}: 0.49 EUR/kWh (0.39 at night), 0.35 EUR per session, parking 6.00 EUR/h; + 19% VAT`,
    `  admin API key   ${seed.adminApiKey}`,
    '                  (shown once; it is stored only as a hash)',
    ...(seed.adminUser
      ? [
          `  admin sign-in   ${seed.adminUser.email} / ${seed.adminUser.password}`,
          `                  dashboard ${httpUrl}/ (password shown once; change it after the first sign-in)`,
        ]
      : []),
    '',
    'Try:',
    `  npx voltbill simulate --url ${ocppUrl} --stations 10 --sessions 3`,
    `  curl -H 'Authorization: Bearer ${seed.adminApiKey}' ${httpUrl}/api/v1/sessions`,
  ];
}
