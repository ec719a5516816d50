/**
 * Signature verification throughput on one core, per OCMF curve (ECDSA with SHA-256 through node:crypto/OpenSSL):
 *   (a) the signature check alone (verifyEcdsaSha256 over the payload bytes with a decoded key), and
 *   (b) a whole record: parseOcmf of the text plus verifyOcmf (signature, record checks, energy) with that key.
 * Run: npx tsx bench/verify-signature.bench.ts   (prints verifications/s per curve and the ratio to secp256r1
 * measured in the same run). Not part of the test run.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { CURVES, OCMF_CURVES, type OcmfCurve } from '../src/metering/ocmf/curves.ts';
import { type DecodedPublicKey, decodePublicKey } from '../src/metering/ocmf/decode-public-key.ts';
import type { OcmfDocument } from '../src/metering/ocmf/ocmf-document.ts';
import { parseOcmf } from '../src/metering/ocmf/parse-ocmf.ts';
import { verifyOcmf } from '../src/metering/ocmf/verify-ocmf.ts';
import { verifyEcdsaSha256 } from '../src/metering/ocmf/verify-signature.ts';

/** A typical single-transaction record ("MR": begin and end in one record) of about 500 bytes. */
const PAYLOAD =
  '{"FV":"1.0","GI":"VOLTBILL BENCH","GS":"GW-0001","GV":"1.4.2","PG":"T1042","MV":"Meters Inc","MM":"EM-3",' +
  '"MS":"1MTR0042","MF":"1.0","IS":true,"IL":"VERIFIED","IF":["RFID_PLAIN","OCPP_RS_TLS"],"IT":"ISO14443",' +
  '"ID":"04A1B2C3D4E5F6","CT":"EVSEID","CI":"DE*VBL*E0001*1","RD":[{"TM":"2025-03-11T17:30:00,000+0100 S",' +
  '"TX":"B","RV":1234.560,"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","EF":"","ST":"G"},{"TM":"2025-03-11T19:45:00,000+0100 S",' +
  '"TX":"E","RV":1256.789,"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","EF":"","ST":"G"}]}';

type Workload = { curve: OcmfCurve; text: string; doc: OcmfDocument; key: DecodedPublicKey };

function workload(curve: OcmfCurve): Workload {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVES[curve].nodeName });
  const sd = sign('sha256', Buffer.from(PAYLOAD), privateKey).toString('hex').toUpperCase();
  const text = `OCMF|${PAYLOAD}|{"SA":"ECDSA-${curve}-SHA256","SD":"${sd}"}`;
  const doc = parseOcmf(text);
  const key = decodePublicKey(publicKey.export({ format: 'der', type: 'spki' }).toString('hex'));
  if (!doc.ok || !key.ok) throw new Error(`bench record for ${curve} does not parse`);
  if (verifyOcmf(doc.value, key.value).status !== 'valid') throw new Error(`bench record for ${curve} does not verify`);
  return { curve, text, doc: doc.value, key: key.value };
}

const signatureOnly = (w: Workload) => verifyEcdsaSha256(w.doc.payloadBytes, w.doc.signature, w.key.keyObject, w.curve);
const wholeRecord = (w: Workload) => {
  const doc = parseOcmf(w.text);
  return doc.ok && verifyOcmf(doc.value, w.key).status === 'valid';
};

/** Verifications per second over one timed run of at least `minMs`. */
function measure(run: () => boolean, minMs: number): number {
  let iterations = 0;
  let failures = 0;
  let batch = 16;
  const start = performance.now();
  let elapsedMs = 0;
  while (elapsedMs < minMs) {
    for (let i = 0; i < batch; i++) if (!run()) failures++;
    iterations += batch;
    elapsedMs = performance.now() - start;
    if (elapsedMs < minMs / 10) batch *= 2;
  }
  if (failures > 0) throw new Error(`${failures} verifications failed`);
  return (iterations * 1000) / elapsedMs;
}

const workloads = OCMF_CURVES.map(workload);
const modes: [string, (w: Workload) => boolean][] = [
  ['(a) signature', signatureOnly],
  ['(b) parse + verify record', wholeRecord],
];
for (const w of workloads) for (const [, run] of modes) measure(() => run(w), 100); // warm-up

// The machine is shared, so each figure is the best of interleaved rounds (what one core can do when nobody else
// runs); the median shows the noise.
const ROUNDS = 3;
const ROUND_MS = 300;
const results = workloads.map(() => modes.map(() => [] as number[]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [curveIndex, w] of workloads.entries()) {
    for (const [modeIndex, [, run]] of modes.entries()) {
      results[curveIndex]?.[modeIndex]?.push(measure(() => run(w), ROUND_MS));
    }
  }
}
const best = (figures: number[] = []) => Math.max(...figures);
const median = (figures: number[] = []) => [...figures].sort((x, y) => x - y)[Math.floor(figures.length / 2)] ?? 0;
const baselineIndex = OCMF_CURVES.indexOf('secp256r1');
const format = (perSecond: number) => Math.round(perSecond).toLocaleString('en-US').padStart(8);

console.log(`OCMF signature verification on one core: node ${process.version}, OpenSSL ${process.versions.openssl}`);
console.log(`best (median) of ${ROUNDS} rounds of ${ROUND_MS} ms; ratio to secp256r1 measured in this run`);
for (const [modeIndex, [mode]] of modes.entries()) {
  console.log(`\n${mode}`);
  const baseline = best(results[baselineIndex]?.[modeIndex]);
  workloads.forEach((w, curveIndex) => {
    const figures = results[curveIndex]?.[modeIndex];
    console.log(
      `  ${w.curve.padEnd(16)}${format(best(figures))} verifications/s (${format(median(figures)).trim()})   x${(best(figures) / baseline).toFixed(3)} of secp256r1`,
    );
  });
}
