// The Internet checksum (RFC 1071), as the seed's checksum.c computes it:
// a running 32-bit sum of 16-bit big-endian words, folded and complemented at the end.

export function sum16(b: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Complemented, folded checksum, ready to store. */
export function wrapsum(sum: number): number {
  return ~fold(sum) & 0xffff;
}

export function ipv4HeaderChecksum(b: Uint8Array, off: number, headerLen: number): number {
  return wrapsum(sum16(b, off, headerLen));
}

/** UDP checksum over the pseudo-header (src, dst, proto 17, length) and the datagram. */
export function udpChecksum(b: Uint8Array, ipOff: number, udpOff: number, udpLen: number): number {
  let sum = sum16(b, ipOff + 12, 8); // source and destination addresses
  sum += 17 + udpLen;
  sum = sum16(b, udpOff, udpLen, sum);
  const c = wrapsum(sum);
  return c === 0 ? 0xffff : c; // RFC 768: a computed zero is sent as all ones
}
