/**
 * Limits on every input the signed-meter-value verification reads. Signed meter data arrives from chargers and
 * from files that anyone can hand us, so each size is bounded before any work is done, and each limit has a name
 * that an error message can point to.
 */

/** Longest OCMF text accepted, in UTF-16 code units. OCPP 2.1 caps signedMeterData at 32,768 Base64 characters. */
export const MAX_OCMF_TEXT_CHARS = 65_536;

/** Most readings (RD entries) in one OCMF record. Real records carry one to a few dozen. */
export const MAX_READINGS_PER_RECORD = 1_000;

/** Deepest nesting of JSON arrays and objects in an OCMF section (payload, RD, reading, vendor extension). */
export const MAX_JSON_DEPTH = 8;

/** Most significant digits in one reading value; more cannot be a meter register. */
export const MAX_DECIMAL_DIGITS = 40;

/** Largest power-of-ten exponent accepted in a JSON number literal such as 1.5E3. */
export const MAX_DECIMAL_EXPONENT = 30;

/** Longest public key text (hex with spaces, Base64, PEM or the OCA envelope). */
export const MAX_PUBLIC_KEY_TEXT_CHARS = 4_096;

/** Longest signature (SD) text; a DER signature on the largest OCMF curve is 104 bytes. */
export const MAX_SIGNATURE_TEXT_CHARS = 1_024;

/** Most records that one charging session may consist of (begin, end and signed intermediate readings). */
export const MAX_RECORDS_PER_SESSION = 1_000;

/** Longest Alfen Eichrecht text ("AP;..."); a real one is about 300 characters. */
export const MAX_ALFEN_TEXT_CHARS = 2_048;

/** Largest input the verify-meter command reads (a Transparenzsoftware XML export or an OCPP message), in chars. */
export const MAX_INPUT_TEXT_CHARS = 16 * 1024 * 1024;

/** Most signed values the verify-meter command takes from one input. */
export const MAX_SIGNED_VALUES_PER_INPUT = 10_000;
