/**
 * The three CRCs the joins rewrite. FLAC frame headers end in a CRC-8 (polynomial 0x07) and
 * frames in a CRC-16 (0x8005), both MSB-first from zero; the LAME tag's two CRCs are the
 * LSB-first CRC-16 of 0x8005 (CRC-16/ARC) from zero.
 */
function table(width: 8 | 16, poly: number): Uint16Array {
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << (width - 8);
    for (let b = 0; b < 8; b++) c = c & top ? ((c << 1) ^ poly) & mask : (c << 1) & mask;
    t[i] = c;
  }
  return t;
}

function reflectedTable(poly: number): Uint16Array {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c;
  }
  return t;
}

const crc8Table = table(8, 0x07);
const crc16Table = table(16, 0x8005);
const arcTable = reflectedTable(0xa001);

export function flacCrc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = crc8Table[crc ^ b]!;
  return crc;
}

/** Continues a FLAC CRC-16 over more bytes (start from 0). */
export function flacCrc16(bytes: Uint8Array, crc = 0): number {
  for (const b of bytes) crc = flacCrc16Byte(crc, b);
  return crc;
}

/** One byte of a FLAC CRC-16, for scans that look at every byte anyway. */
export function flacCrc16Byte(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ crc16Table[(crc >> 8) ^ byte]!;
}

/** a·b modulo FLAC's CRC-16 polynomial x^16 + x^15 + x^2 + 1, for a and b below 2^16. */
function mulMod16(a: number, b: number): number {
  let r = 0;
  for (let bit = 15; bit >= 0; bit--) {
    r <<= 1;
    if (r & 0x10000) r ^= 0x18005;
    if ((b >> bit) & 1) r ^= a;
  }
  return r;
}

/**
 * The FLAC CRC-16 of a message whose CRC-16 is `crc`, followed by `zeros` zero bytes: crc·x^(8n)
 * modulo the polynomial, by squaring, in a few dozen steps whatever n is. With it a frame whose
 * header changes gets its new CRC-16 from the old one without reading its body again (CRCs from
 * zero are linear: crc(H‖B) = crc(H)·x^(8|B|) ⊕ crc(B)).
 */
export function flacCrc16AfterZeros(crc: number, zeros: number): number {
  let power = 1;
  let base = 0x100; // x^8
  for (let n = zeros; n > 0; n = Math.floor(n / 2)) {
    if (n % 2 === 1) power = mulMod16(power, base);
    base = mulMod16(base, base);
  }
  return mulMod16(crc, power);
}

export function crc16Arc(bytes: Uint8Array, crc = 0): number {
  for (const b of bytes) crc = (crc >>> 8) ^ arcTable[(crc ^ b) & 0xff]!;
  return crc;
}

const oggTable = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 24;
  for (let b = 0; b < 8; b++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  oggTable[i] = c >>> 0;
}

/** Ogg's page checksum: CRC-32 of 0x04c11db7, MSB-first, from zero, no final inversion. */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ oggTable[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc;
}
