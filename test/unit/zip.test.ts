import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { archiveSegment, UniqueNames } from '../../src/domain/archive-names.ts';
import { zipStream, type ZipSource } from '../../src/web/zip-stream.ts';
import { unzipArchive } from '../helpers/unzip.ts';

const collect = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const tiny = (count: number, folder = (i: number) => `part-${Math.floor(i / 1000)}`): ZipSource[] =>
  Array.from({ length: count }, (_, i) => {
    const bytes = Buffer.from(`entry ${i}\n`);
    return { path: `${folder(i)}/${i}.txt`, size: bytes.length, modifiedAt: new Date(0), open: () => Promise.resolve(Readable.from([bytes])) };
  });

describe('names inside an archive', () => {
  it('makes every hostile name a single harmless path segment', () => {
    const cases: [string, string][] = [
      ['song.flac', 'song.flac'],
      ['..', 'fallback'],
      ['.', 'fallback'],
      ['', 'fallback'],
      ['../../etc/passwd', '_._etc_passwd'],
      ['/abs/olute.mp3', '_abs_olute.mp3'],
      ['C:\\Windows\\x.wav', 'C__Windows_x.wav'],
      ['a..b...c.mp3', 'a.b.c.mp3'],
      ['bell\u0007\r\nname.mp3', 'bell name.mp3'],
      ['evil\u202Egpj.mp3', 'evil gpj.mp3'],
      ['  .hidden. ', 'hidden'],
      ['what?*<>|".mp3', 'what______.mp3'],
      ['CON', '_CON'],
      ['nul.txt', '_nul.txt'],
      ['console.mp3', 'console.mp3'],
    ];
    for (const [raw, want] of cases) assert.equal(archiveSegment(raw, 'fallback'), want, JSON.stringify(raw));
    assert.equal(Array.from(archiveSegment(`${'é'.repeat(400)}.flac`, 'x')).length, 150, 'cut, keeping the extension');
    assert.ok(archiveSegment(`${'é'.repeat(400)}.flac`, 'x').endsWith('.flac'));
  });

  it('numbers equal names before their extension, as a case-insensitive disk compares them', () => {
    const files = new UniqueNames();
    assert.deepEqual(['a.mp3', 'A.mp3', 'a.MP3', 'a.flac', 'a (2).mp3', 'noext', 'NoExt'].map((n) => files.claim(n)), [
      'a.mp3',
      'A (2).mp3',
      'a (3).MP3',
      'a.flac',
      'a (2) (2).mp3',
      'noext',
      'NoExt (2)',
    ]);
    const folders = new UniqueNames();
    assert.deepEqual(['My.Song', 'my.song'].map((n) => folders.claim(n, 'folder')), ['My.Song', 'my.song (2)']);
  });
});

describe('the streamed ZIP writer', () => {
  it('writes exactly the size it announced, and unzip reads back every entry', async () => {
    const zip = zipStream(tiny(50));
    const bytes = await collect(zip.stream);
    assert.equal(bytes.length, zip.size);
    const read = await unzipArchive(bytes);
    assert.equal(read.names.length, 50);
    assert.equal((await read.read('part-0/49.txt')).toString(), 'entry 49\n');
    assert.equal(zip.openSources(), 0);
  });

  it('writes ZIP64 records when asked, and unzip reads them', async () => {
    const zip = zipStream(tiny(3), { forceZip64: true });
    const bytes = await collect(zip.stream);
    assert.equal(bytes.length, zip.size);
    // The ZIP64 end-of-central-directory record and its locator.
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])));
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07])));
    const read = await unzipArchive(bytes);
    assert.deepEqual(read.names, ['part-0/0.txt', 'part-0/1.txt', 'part-0/2.txt']);
    assert.equal((await read.read('part-0/2.txt')).toString(), 'entry 2\n');
  });

  it('switches to ZIP64 by itself past 65,535 entries', async () => {
    const count = 65_537;
    const zip = zipStream(tiny(count));
    const bytes = await collect(zip.stream);
    assert.equal(bytes.length, zip.size);
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'a ZIP64 end record');
    const read = await unzipArchive(bytes, { extract: false });
    // The classic end record can count only to 65,535: unzip found them all through ZIP64.
    assert.equal(read.names.length, count);
    assert.equal((await read.read(`part-65/${count - 1}.txt`)).toString(), `entry ${count - 1}\n`);
  });

  it('fails the archive when an entry cannot be read, and opens nothing after it', async () => {
    let opened = 0;
    const sources = tiny(3).map((s, i) => ({
      ...s,
      open: () => {
        opened++;
        return i === 1 ? Promise.reject(new Error('blob gone')) : s.open();
      },
    }));
    const zip = zipStream(sources);
    await assert.rejects(collect(zip.stream), /blob gone/);
    assert.equal(opened, 2);
  });
});

describe("yazl's checksum, on zlib", () => {
  it('gives what buffer-crc32 gives, also chained over chunks', async () => {
    const { createRequire } = await import('node:module');
    const { randomBytes } = await import('node:crypto');
    const require = createRequire(import.meta.url);
    const fromYazl = createRequire(require.resolve('yazl'));
    const crc = fromYazl('buffer-crc32') as { unsigned(data: Buffer, previous?: number): number; signed(data: Buffer, previous?: number): number };
    const { useNativeCrc32 } = await import('../../src/web/zip-crc.ts');
    assert.equal(useNativeCrc32(), true, 'Node 20.19 has zlib.crc32');
    assert.notEqual(crc.unsigned.toString(), crc.signed.toString().replace('signed', 'unsigned'), 'the fast one is in place');
    for (const size of [0, 1, 7, 4096, 100_003]) {
      const data = randomBytes(size);
      const half = Math.floor(size / 2);
      // The library's own table code is still reachable through `signed`.
      const slow = crc.signed(data) >>> 0;
      assert.equal(crc.unsigned(data), slow, `${size} bytes`);
      assert.equal(crc.unsigned(data.subarray(half), crc.unsigned(data.subarray(0, half))), slow, `${size} bytes in two chunks`);
    }
  });
});
