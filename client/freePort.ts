// Ports on 127.0.0.1: a free one right now (the servers Pipewright starts for tests, benches and
// simulations each ask for one, so runs side by side never collide), and whether one is answering.
import { createConnection, createServer } from 'node:net';

/** Whether something accepts TCP connections on 127.0.0.1:`port` now. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port was assigned'))));
    });
  });
}

/**
 * A port free on 127.0.0.1 below `limit`, for servers that cannot store a larger one: the Temporal
 * server keeps its membership ports in a smallint column, and the kernel hands out ephemeral ports
 * from 32768 up. Tries random ports from 10000 until one binds.
 */
export async function freePortBelow(limit: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (limit - 10_000));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port between 10000 and ${limit} on 127.0.0.1 after 50 tries`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
