/**
 * s3rver in a process of its own, so that storing uploads and outputs does not load the bench's
 * event loop (which timestamps events and log lines). Prints {"endpoint": …} once listening; stops
 * on SIGTERM/SIGINT or when its standard input closes (the bench ended without stopping it).
 */
import { startS3 } from '../test/support/services.ts';

const s3 = await startS3('127.0.0.1');
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  s3.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop).resume();
