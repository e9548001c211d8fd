// A local stand-in for Twilio: Stoplight Prism serves Twilio's own OpenAPI description
// (twilio_api_v2010.json beside this file, see TWILIO-OPENAPI.md) and answers 422 to any request
// that breaks it; a valid Messages.json POST gets the spec's example message (sid SMaaa..., queued).
// Prism cannot tell what it received, so a small recording proxy stands in front of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stopProcess } from '../../client/stopProcess';

const SPEC = join(__dirname, 'twilio_api_v2010.json');
/** Prism takes about 3 s to load the 1.8 MB description here; a slow, busy machine can take much longer. */
const START_TIMEOUT_MS = 60_000;

/** One request as the mock received it, with the status it answered. */
export interface RecordedTwilioRequest {
  method: string;
  /** Path and query, e.g. /2010-04-01/Accounts/AC.../Messages.json */
  path: string;
  /** The form body (To, From, Body, ...); a repeated field is an array. */
  form: Record<string, string | string[]>;
  status: number;
  /** Prism's answer: the message, or on 422 the violations it found. */
  responseBody: string;
}

export interface TwilioMock {
  /** Base URL for PIPEWRIGHT_TWILIO_API_URL. */
  url: string;
  requests(): RecordedTwilioRequest[];
  stop(): Promise<void>;
}

export async function startTwilioMock(): Promise<TwilioMock> {
  const prism = await startPrism();
  try {
    const proxy = await startRecordingProxy(prism.url);
    return {
      url: proxy.url,
      requests: () => proxy.recorded.slice(),
      async stop() {
        try {
          await proxy.close();
        } finally {
          await prism.stop();
        }
      },
    };
  } catch (error) {
    await prism.stop();
    throw error;
  }
}

interface Prism {
  url: string;
  stop(): Promise<void>;
}

async function startPrism(): Promise<Prism> {
  const cli = require.resolve('@stoplight/prism-cli/dist/index.js');
  // Request validation is on by default: an invalid request gets a 422 listing the violations.
  // No --errors: that also turns mismatches in Prism's own generated answers into errors.
  const child = spawn(process.execPath, [cli, 'mock', '--host', '127.0.0.1', '--port', '0', '--multiprocess=false', SPEC], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test', FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  const stop = () => stopProcess(child, 5_000);
  try {
    return { url: await prismListening(child), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits for Prism's "Prism is listening on http://127.0.0.1:PORT" and returns that address. */
function prismListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const tail = () => output.split('\n').filter(Boolean).slice(-10).join('\n');
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
      const match = /Prism is listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        done();
        // Keep draining Prism's per-request log lines so its pipe never fills.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(match[1]!.replace(/\/$/, ''));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done();
      reject(new Error(`Prism exited (${signal ?? code}) before listening:\n${tail()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`Prism did not start within ${START_TIMEOUT_MS / 1000} s:\n${tail()}`));
    }, START_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
    child.on('error', (err) => {
      done();
      reject(err);
    });
  });
}


interface RecordingProxy {
  url: string;
  recorded: RecordedTwilioRequest[];
  close(): Promise<void>;
}

/** Forwards each request to Prism unchanged and records it with Prism's status. */
async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const recorded: RecordedTwilioRequest[] = [];
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: false });

  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const forwarded = httpRequest({
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host, connection: 'close' },
      });
      forwarded.end(body);
      const [answer] = (await once(forwarded, 'response')) as [IncomingMessage];
      const answerBody = await readBody(answer);
      recorded.push({
        method: req.method ?? '',
        path: req.url ?? '',
        form: parseForm(req.headers['content-type'], body),
        status: answer.statusCode ?? 0,
        responseBody: answerBody.toString('utf8'),
      });
      const headers = { ...answer.headers };
      delete headers.connection;
      delete headers['keep-alive'];
      delete headers['transfer-encoding'];
      headers['content-length'] = String(answerBody.length);
      res.writeHead(answer.statusCode ?? 502, headers);
      res.end(answerBody);
    } catch (error) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`twilio mock proxy: ${(error as Error).message}`);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    recorded,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      agent.destroy();
    },
  };
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseForm(contentType: string | undefined, body: Buffer): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  if (!contentType?.startsWith('application/x-www-form-urlencoded')) return form;
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    const seen = form[key];
    form[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return form;
}
