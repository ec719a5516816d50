/**
 * Test certificates for security profiles 2 and 3: a CA (the operator's, for a test setup), a server certificate
 * it issued for the OCPP endpoint's host names, and client certificates whose subject CN is a station id (as
 * OCPP 2.0.1 A00.FR.409 names the Charging Station). ECDSA P-256 with SHA-256, PEM output. A production operator
 * uses its own PKI; this is for test benches, demos and the integration tests (which also need expired and
 * foreign certificates, hence the explicit validity window).
 */
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export type Validity = { readonly notBefore: Date; readonly notAfter: Date };

export type IssuedCertificate = {
  readonly certPem: string;
  readonly keyPem: string;
};

export type CertificateAuthority = IssuedCertificate & {
  readonly certificate: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
};

export async function createCertificateAuthority(
  commonName: string,
  validity: Validity,
): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${escapeDn(commonName)}`,
    ...validity,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, certPem: certificate.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}

export type CertificateRequest = {
  readonly kind: 'server' | 'client';
  readonly commonName: string;
  /** Organization (O): OCPP 2.0.1 puts the CSO's name there for station certificates. */
  readonly organization?: string;
  /** DNS names and IP addresses of a server certificate. */
  readonly hosts?: readonly string[];
  readonly validity: Validity;
};

export async function issueCertificate(
  ca: CertificateAuthority,
  request: CertificateRequest,
): Promise<IssuedCertificate> {
  const keys = await generateKeys();
  const subject = [
    `CN=${escapeDn(request.commonName)}`,
    ...(request.organization ? [`O=${escapeDn(request.organization)}`] : []),
  ].join(', ');
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension(
      [request.kind === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (request.hosts && request.hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        request.hosts.map((host) => ({ type: isIpAddress(host) ? ('ip' as const) : ('dns' as const), value: host })),
      ),
    );
  }
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca.certificate.subject,
    ...request.validity,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions,
  });
  return { certPem: certificate.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}

/** Reads back a CA written by createCertificateAuthority (PEM certificate and PKCS#8 key). */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decodeFirst(keyPem);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
  const publicKey = await certificate.publicKey.export(ALGORITHM, ['verify']);
  return { certificate, keys: { privateKey, publicKey } as CryptoKeyPair, certPem, keyPem };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
