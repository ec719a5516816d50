/**
 * Refuses card data anywhere in a request: a payment card number (13-19 digits, optionally grouped by spaces or
 * dashes, issuer digit 2-6, Luhn-valid), magnetic-stripe track data, or a field named like a CVC or card number.
 * Voltbill never takes card data (PCI DSS scope stays with the payment provider), so such a request is refused
 * before any handler sees it, and it is not logged.
 */
const DIGIT_RUN = /(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])/g;
// Our own ids are UUIDs (8-4-4-4-12 hex). About one in 900 random UUIDs holds a dash-grouped, Luhn-valid run of
// 13+ digits (e.g. `…b-4904-4802-9315-7…`), which would refuse a perfectly good request naming it. No card is
// printed or typed in that grouping, so UUID-shaped tokens are blanked before the digit scan.
const UUID = /(?<![0-9a-f-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f-])/gi;
const TRACK_1 = /%?B[0-9]{13,19}\^[^^]{2,26}\^[0-9]{4}/;
const TRACK_2 = /;?[0-9]{13,19}=[0-9]{4}[0-9]*\??/;
const CARD_FIELD =
  /"(?:cvc2?|cvv2?|cid|csc|card_?number|cardnumber|pan|primary_?account_?number|track_?[12]|track_?data)"\s*:/i;

export type CardDataFinding = 'card-number' | 'track-data' | 'card-field';

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Scans text (a raw JSON body, a query string) for card data; what kind it found, or undefined. */
export function findCardData(text: string): CardDataFinding | undefined {
  if (TRACK_1.test(text) || TRACK_2.test(text)) return 'track-data';
  if (CARD_FIELD.test(text)) return 'card-field';
  for (const match of text.replace(UUID, ' ').matchAll(DIGIT_RUN)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return 'card-number';
  }
  return undefined;
}
