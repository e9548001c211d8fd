// The mail sink `pipewright dev` and the tests receive mail with: a sender that dies mid-message
// (a worker killed while sending) must not take the sink, or the process it lives in, down with it.
import { connect } from 'node:net';
import { startMailSink } from '../client/mailSink';

test('senders that drop their connection mid-message leave the sink receiving', async () => {
  const sink = await startMailSink();
  try {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve) => {
        const socket = connect(sink.port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.once('data', () => {
          socket.write('EHLO killed.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nSubject: cut short\r\n\r\nbody\r\n');
          setTimeout(() => {
            socket.resetAndDestroy();
            resolve();
          }, i);
        });
      })),
    );
    await sink.mailer().sendMail({ from: 'a@b.example', to: 'after@d.example', subject: 'still here', text: 'yes' });
    expect((await sink.waitFor((m) => m.subject === 'still here')).to).toEqual(['after@d.example']);
  } finally {
    await sink.close();
  }
});
