/**
 * The mail a job's end sends, as plain text. Pure: what goes in is what the job recorded, what
 * comes out is fixed on the mail's row so every attempt sends the same message.
 */

// C0/C1 controls (CR and LF among them), DEL, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const breaking = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line of text, whatever came in: a header built from it cannot be split into two. */
export function oneLine(text: string, maxPoints = 200): string {
  const flat = text.replace(breaking, ' ').replace(/\s+/g, ' ').trim();
  const points = Array.from(flat);
  return points.length <= maxPoints ? flat : `${points.slice(0, maxPoints - 1).join('')}…`;
}

export interface JobEndFacts {
  notificationId: string;
  fileId: string;
  fileName: string;
  kind: 'completed' | 'failed';
  /** Why it failed; null when it completed. */
  reason: string | null;
  /** Where people open Reprise, without a trailing slash. */
  publicUrl: string;
}

export interface JobEndMail {
  subject: string;
  body: string;
}

export function jobEndMail(f: JobEndFacts): JobEndMail {
  const name = oneLine(f.fileName, 120);
  const link = `${f.publicUrl}/files/${encodeURIComponent(f.fileId)}`;
  const outcome =
    f.kind === 'completed'
      ? [`“${name}” has been transcoded: its outputs are ready to download.`]
      : [`Transcoding “${name}” failed.`, '', `Reason: ${oneLine(f.reason ?? 'unknown', 1000)}`];
  const body = [
    ...outcome,
    '',
    `Open the file: ${link}`,
    '',
    '-- ',
    'You get this mail because you asked Reprise to mail you when a job ends.',
    `Turn it off in Settings: ${f.publicUrl}/settings#mail`,
    '',
  ].join('\n');
  return { subject: oneLine(f.kind === 'completed' ? `Ready: ${name}` : `Failed: ${name}`, 160), body };
}

/**
 * The same Message-ID on every attempt at one notification's mail: a receiver that got a
 * message twice (a crash between sending and marking it sent) can drop the repeat.
 */
export function jobEndMessageId(notificationId: string, publicUrl: string): string {
  const host = new URL(publicUrl).hostname.replace(/[^a-zA-Z0-9.-]/g, '') || 'reprise.invalid';
  return `<notification.${notificationId.replace(/[^a-zA-Z0-9-]/g, '')}@${host}>`;
}
