import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeStderr } from '../../src/media/ffmpeg-run.ts';

describe('what an ffmpeg failure tells the owner', () => {
  it('is the last line, without paths or URLs: a presigned URL is a credential while it lives', () => {
    const url = 'https://bucket.s3.eu-west-1.amazonaws.com/files/abc/input?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261203%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Signature=deadbeef';
    const said = summarizeStderr(`[in#0 @ 0x55d1] something first\n[http @ 0x5581] Stream ends prematurely at 200000, should be 1764000\n${url}: Input/output error\n`);
    assert.equal(said, 'the stored input: Input/output error');
    assert.equal(summarizeStderr('[wav @ 0x1] /srv/reprise/scratch/in-x/input: Invalid data found when processing input\n'), 'the file: Invalid data found when processing input');
    assert.equal(summarizeStderr(''), 'ffmpeg failed');
  });
});
