import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { describe, it } from 'node:test';
import { cleanText, cutKeepingExtension, displayName, originalName } from '../../src/domain/names.ts';
import { interpretRange } from '../../src/web/range.ts';
import { safeNext } from '../../src/web/safety.ts';

describe('safeNext', () => {
  it('keeps same-site paths and encodes what a header cannot carry', () => {
    assert.equal(safeNext('/files'), '/files');
    assert.equal(safeNext('/files/abc?x=1#y'), '/files/abc?x=1#y');
    assert.equal(safeNext('/files/%20already'), '/files/%20already');
    assert.equal(safeNext('/files/✓'), '/files/%E2%9C%93');
    assert.equal(safeNext('/🎵'), '/%F0%9F%8E%B5');
  });
  it('sends everything else to the default page', () => {
    const refused = ['', 'files', 'https://evil.example', '//evil.example', '/\\evil', '/\t/evil', '/a\r\nb', '/a b', '/a\u0000', '/\u202eevil', '/\ud83c', '/x\u00a0', `/${'a'.repeat(3000)}`];
    for (const next of refused) assert.equal(safeNext(next), '/files', JSON.stringify(next));
    for (const next of [undefined, null, 42, ['/files'], { a: 1 }]) assert.equal(safeNext(next), '/files');
  });
  it('never returns a value Node refuses as a header', () => {
    for (let c = 0; c < 0x3000; c += 7) {
      const out = safeNext(`/p${String.fromCharCode(c)}q`);
      assert.doesNotThrow(() => validateHeaderValue('location', out), `U+${c.toString(16)}`);
    }
  });
});

describe('interpretRange (RFC 9110 §14)', () => {
  const size = 100;
  it('serves one valid range', () => {
    assert.deepEqual(interpretRange('bytes=0-9', size), { kind: 'partial', start: 0, end: 9 });
    assert.deepEqual(interpretRange('bytes=90-', size), { kind: 'partial', start: 90, end: 99 });
    assert.deepEqual(interpretRange('bytes=90-500', size), { kind: 'partial', start: 90, end: 99 });
    assert.deepEqual(interpretRange('bytes=-10', size), { kind: 'partial', start: 90, end: 99 });
  });
  it('treats a suffix longer than the file as all of it', () => {
    assert.deepEqual(interpretRange('bytes=-1000', size), { kind: 'partial', start: 0, end: 99 });
  });
  it('ignores what is not one valid range', () => {
    for (const h of ['bytes=5-1', 'bytes=abc', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-', 'bytes=1.5-2', '']) {
      assert.deepEqual(interpretRange(h, size), { kind: 'whole' }, h);
    }
    assert.deepEqual(interpretRange(undefined, size), { kind: 'whole' });
  });
  it('is unsatisfiable only for a valid range past the end', () => {
    assert.deepEqual(interpretRange('bytes=100-', size), { kind: 'unsatisfiable' });
    assert.deepEqual(interpretRange('bytes=100-200', size), { kind: 'unsatisfiable' });
    assert.deepEqual(interpretRange('bytes=-0', size), { kind: 'unsatisfiable' });
    assert.deepEqual(interpretRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  });
});

describe('names', () => {
  it('removes controls, bidi overrides and lone surrogates', () => {
    assert.equal(cleanText('a\u0000b\r\nc\u202ed\u2066e\ud83c'), 'a b c d e');
    assert.equal(cleanText('  many   spaces\t'), 'many spaces');
    assert.equal(cleanText('ok 🎵 ✓'), 'ok 🎵 ✓');
  });
  it('cuts on code points and keeps the extension', () => {
    const cut = cutKeepingExtension(`${'🎵'.repeat(300)}.flac`, 200);
    assert.equal(Array.from(cut).length, 200);
    assert.ok(cut.endsWith('.flac'));
    assert.equal(/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut), false);
    assert.equal(cutKeepingExtension('short.wav', 200), 'short.wav');
    assert.equal(Array.from(cutKeepingExtension('x'.repeat(500), 10)).length, 10);
  });
  it('falls back from the typed name to the file name to "Untitled"', () => {
    assert.equal(displayName('  My song ', 'a.wav'), 'My song');
    assert.equal(displayName('\u0000\u202e', 'dir/a.wav'), 'a.wav');
    assert.equal(displayName(undefined, ''), 'Untitled');
    assert.equal(displayName(['array'], 'b.mp3'), 'b.mp3');
  });
  it('keeps only the last segment of an uploaded file name', () => {
    assert.equal(originalName('C:\\Users\\x\\song.wav'), 'song.wav');
    assert.equal(originalName('../../etc/passwd'), 'passwd');
    assert.equal(originalName('..'), 'upload');
    assert.equal(originalName('a\r\n.wav'), 'a .wav');
  });
});
