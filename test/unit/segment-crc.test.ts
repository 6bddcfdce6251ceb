import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { flacCrc16, flacCrc16AfterZeros } from '../../src/media/segments/crc.ts';

it('a FLAC CRC-16 carried over n zero bytes by squaring equals the CRC-16 computed over them', () => {
  for (const zeros of [0, 1, 2, 7, 255, 4096, 18_432, 100_003]) {
    for (let trial = 0; trial < 5; trial++) {
      const message = randomBytes(1 + trial * 13);
      const crc = flacCrc16(message);
      assert.equal(flacCrc16AfterZeros(crc, zeros), flacCrc16(Buffer.concat([message, Buffer.alloc(zeros)])), `${zeros} zeros after ${message.toString('hex')}`);
    }
  }
});
