// A private CA with a server certificate for 127.0.0.1 / localhost and a client certificate, made
// with the openssl command line: what a self-hosted cluster reached over mutual TLS hands its clients.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterTls } from '../../client/cluster';

const openssl = (args: string[]) => promisify(execFile)('openssl', args);

export async function makeCertificates(dir: string): Promise<ClusterTls> {
  const file = (name: string) => join(dir, name);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Pipewright test CA', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  const sign = async (name: string, subject: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), `${extensions}\n`);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)]);
    await openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)]);
  };
  await sign('server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  await sign('client', '/CN=pipewright-worker', 'extendedKeyUsage=clientAuth');
  return {
    caFile: file('ca.pem'),
    serverCertFile: file('server.pem'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client.key'),
    serverName: 'localhost',
  };
}
