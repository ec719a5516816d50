/**
 * `voltbill certs`: a test PKI for OCPP security profiles 2 and 3 — a CA, a server certificate for the OCPP TLS
 * endpoint, and client certificates for stations (subject CN = station id). Writes PEM files into a folder and
 * prints the settings that use them. For test benches and demos; production uses the operator's own PKI.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.ts';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueCertificate,
  loadCertificateAuthority,
} from '../ocpp/security/generate-certificates.ts';
import { STATION_ID_PATTERN } from '../ocpp/station-registry.ts';

export const CERTS_USAGE = `usage: voltbill certs --out DIR [--host NAME ...] [--station ID ...] [--days N] [--organization O]
  Creates DIR/ca.pem + ca.key (or reuses them when present), DIR/server.pem + server.key for the hosts
  (default localhost and 127.0.0.1), and DIR/station-ID.pem + station-ID.key for each --station (profile 3).`;

const DAY_MS = 86_400_000;

export type CertsCommandDeps = { readonly now?: () => Date };

export async function runCertsCommand(argv: string[], io: CommandIo, deps: CertsCommandDeps = {}): Promise<number> {
  let values: {
    out?: string;
    host?: string[];
    station?: string[];
    days?: string;
    organization?: string;
  };
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        out: { type: 'string' },
        host: { type: 'string', multiple: true },
        station: { type: 'string', multiple: true },
        days: { type: 'string' },
        organization: { type: 'string' },
      },
    }).values;
  } catch (error) {
    io.stderr(`voltbill certs: ${(error as Error).message}\n${CERTS_USAGE}\n`);
    return 2;
  }
  const usage = (message: string) => {
    io.stderr(`voltbill certs: ${message}\n${CERTS_USAGE}\n`);
    return 2;
  };
  if (!values.out) return usage('--out is required');
  const days = values.days === undefined ? 365 : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) return usage('--days is 1 to 3650');
  const stations = values.station ?? [];
  const bad = stations.find((s) => !STATION_ID_PATTERN.test(s));
  if (bad) return usage(`'${bad}' is not a station id`);
  const hosts = values.host && values.host.length > 0 ? values.host : ['localhost', '127.0.0.1'];
  const now = (deps.now ?? (() => new Date()))();
  const validity = { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + days * DAY_MS) };
  const organization = values.organization ?? 'Voltbill Test CPO';
  const out = path.resolve(values.out);
  await mkdir(out, { recursive: true });

  const file = (name: string) => path.join(out, name);
  let ca: CertificateAuthority;
  const existing = await readPair(file('ca.pem'), file('ca.key'));
  if (existing) {
    ca = await loadCertificateAuthority(existing.cert, existing.key);
    io.stdout(`reusing the CA in ${file('ca.pem')}\n`);
  } else {
    ca = await createCertificateAuthority(`${organization} OCPP CA`, {
      notBefore: validity.notBefore,
      notAfter: new Date(now.getTime() + Math.max(days, 3650) * DAY_MS),
    });
    await writeFile(file('ca.pem'), ca.certPem);
    await writeFile(file('ca.key'), ca.keyPem, { mode: 0o600 });
    io.stdout(`created the CA ${file('ca.pem')}\n`);
  }
  const server = await issueCertificate(ca, {
    kind: 'server',
    commonName: hosts[0] as string,
    organization,
    hosts,
    validity,
  });
  await writeFile(file('server.pem'), server.certPem);
  await writeFile(file('server.key'), server.keyPem, { mode: 0o600 });
  io.stdout(`created the server certificate ${file('server.pem')} for ${hosts.join(', ')}\n`);
  for (const station of stations) {
    const cert = await issueCertificate(ca, { kind: 'client', commonName: station, organization, validity });
    await writeFile(file(`station-${station}.pem`), cert.certPem);
    await writeFile(file(`station-${station}.key`), cert.keyPem, { mode: 0o600 });
    io.stdout(`created the client certificate ${file(`station-${station}.pem`)} (CN=${station})\n`);
  }
  io.stdout(
    [
      '',
      'Run Voltbill with TLS (security profiles 2 and 3):',
      '  VOLTBILL_OCPP_TLS_PORT=9443 \\',
      `  VOLTBILL_OCPP_TLS_CERT=${file('server.pem')} \\`,
      `  VOLTBILL_OCPP_TLS_KEY=${file('server.key')} \\`,
      `  VOLTBILL_OCPP_TLS_CA=${file('ca.pem')} \\`,
      '  voltbill serve',
      `Stations trust ${file('ca.pem')} and connect to wss://<host>:9443/ocpp/<station id>.`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  } catch {
    return undefined;
  }
}
