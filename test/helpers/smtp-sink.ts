import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope: who the server was told to deliver to, whatever the headers say. */
  rcptTo: string[];
  mailFrom: string;
  raw: string;
  parsed: ParsedMail;
}

/**
 * A real SMTP server on loopback (the smtp-server package) that keeps every message it accepts,
 * parsed by mailparser: an implementation that is not ours reads what we sent. `refuse` may turn
 * a recipient away with an SMTP reply code. `stop()` and `start()` take it down and bring it back
 * on the same port, to play a mail server that is away for a while.
 */
export async function startSmtpSink(refuse: (rcpt: string) => { code: number; message: string } | undefined = () => undefined) {
  const received: ReceivedMail[] = [];
  const make = () =>
    new SMTPServer({
      authOptional: true,
      // Plain SMTP on loopback: the sink's self-signed certificate would only be refused.
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(address, _session, callback) {
        const no = refuse(address.address);
        if (!no) return callback();
        return callback(Object.assign(new Error(no.message), { responseCode: no.code }));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((parsed) => {
              const from = session.envelope.mailFrom;
              received.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), mailFrom: from ? from.address : '', raw, parsed });
              callback();
            })
            .catch((err: Error) => callback(err));
        });
      },
    });
  let server = make();
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    received,
    to: (address: string) => received.filter((m) => m.rcptTo.includes(address)),
    /** Stops listening: connections to the port are refused until start(). */
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    start: async () => {
      server = make();
      await listen();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
