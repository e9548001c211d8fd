// One PGlite session shared by many TCP connections, handed to one connection at a time.
//
// pglite-socket 0.2.17 queues protocol messages from all connections into the single PGlite session
// (QueryQueueManager). Two defects there would break a pooled client (upstream: electric-sql/pglite
// issue #1046), and both are fixed here by replacing that queue with this one:
//  - If PGlite throws while running a message, processQueue returns without clearing its
//    `processing` flag, and from then on no connection gets an answer: the whole store hangs.
//  - A connection keeps the session to itself only inside an explicit transaction. An extended-
//    protocol query (Parse, Bind, Describe, Execute, Sync: what pg sends for any query with
//    parameters) is not one, so when a message arrives in several TCP reads (large parameters)
//    another connection's Parse can replace the unnamed statement between our Parse and Bind, and
//    we run its SQL with our parameters.
// A SQL error is not such a throw: Postgres answers it with an ErrorResponse like any other reply.
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Engine } from './pgliteEngine';

const codes = (...types: string[]) => new Set(types.map((type) => type.charCodeAt(0)));
/**
 * Extended-protocol messages a client sends without waiting for their replies (Parse, Bind,
 * Describe, Execute, Close). Postgres itself may hold those replies until Sync or Flush, so these
 * are held and run together with the connection's next other message: one trip to the PGlite
 * worker per query instead of five.
 */
const DEFERRABLE = codes('P', 'B', 'D', 'E', 'C');
/** Messages after which Postgres holds per-connection state until the client's Sync. */
const UNTIL_SYNC = codes('P', 'B', 'D', 'E', 'C', 'H');

const SYNC = frame('S', new Uint8Array(0));
const ROLLBACK = frame('Q', new TextEncoder().encode('ROLLBACK\0'));

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/**
 * The interface pglite-socket's connection handlers call on the queue. Keep it in step with the
 * pinned version: a handler calls enqueue per message, and clearQueueForHandler then
 * clearTransactionIfNeeded when its socket goes.
 */
export class SessionQueue {
  private readonly waiting: Pending[] = [];
  /** The connection the session belongs to until its Sync or the end of its transaction. */
  private owner: number | undefined;
  /** The connection whose message PGlite is running now. */
  private running: number | undefined;
  private draining = false;
  /** Connections that went away while their message was running, to release after it. */
  private readonly departed = new Set<number>();
  private releasing: Promise<void> | undefined;
  /** The owner's DEFERRABLE messages, not yet run. */
  private held: Uint8Array[] = [];

  constructor(private readonly engine: Engine) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ handlerId, message, onData, resolve, reject });
      void this.drain();
    });
  }

  getQueueLength(): number {
    return this.waiting.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const pending = this.waiting[i]!;
      if (pending.handlerId !== handlerId) continue;
      this.waiting.splice(i, 1);
      pending.reject(new Error('Handler disconnected'));
    }
    this.departed.add(handlerId);
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.running === handlerId) return; // drain() releases it when that message is done
    this.departed.delete(handlerId);
    if (this.owner === handlerId) {
      await this.release();
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const index = this.owner === undefined ? 0 : this.waiting.findIndex((p) => p.handlerId === this.owner);
        if (index < 0 || index >= this.waiting.length) return;
        const pending = this.waiting.splice(index, 1)[0]!;
        if (DEFERRABLE.has(pending.message[0]!)) {
          this.held.push(pending.message);
          this.owner = pending.handlerId;
          pending.resolve(0);
          continue;
        }
        const message = this.held.length === 0 ? pending.message : concat([...this.held, pending.message]);
        this.held = [];
        this.running = pending.handlerId;
        let bytes = 0;
        let outcome: { inTransaction: boolean } | { error: unknown };
        try {
          outcome = await this.engine.exec(message, (data) => {
            bytes += data.length;
            pending.onData(data);
          });
        } catch (error) {
          outcome = { error };
        } finally {
          this.running = undefined;
        }
        const gone = this.departed.delete(pending.handlerId);
        if ('error' in outcome) {
          // pglite-socket closes a connection whose message was rejected, so whatever it left in
          // the session (a half-sent query, an open transaction) is ended now, not inherited.
          await this.release();
          pending.reject(outcome.error);
          continue;
        }
        const holds = UNTIL_SYNC.has(pending.message[0]!) || outcome.inTransaction;
        this.owner = holds ? pending.handlerId : undefined;
        if (gone && holds) await this.release();
        pending.resolve(bytes);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Hands the session back after its connection vanished mid-query or mid-transaction: Sync ends
   * any half-sent extended query (and Postgres's skip-until-Sync after an error), then ROLLBACK
   * ends any transaction. The replies go nowhere; nobody is listening for them.
   */
  private release(): Promise<void> {
    // Once per departure: a second Sync/ROLLBACK queued behind the first could land in the next
    // connection's transaction.
    this.releasing ??= this.endSession().finally(() => {
      this.releasing = undefined;
    });
    return this.releasing;
  }

  private async endSession(): Promise<void> {
    this.held = [];
    const discard = () => undefined;
    try {
      const { inTransaction } = await this.engine.exec(SYNC, discard);
      if (inTransaction) await this.engine.exec(ROLLBACK, discard);
    } catch {
      // The engine is beyond saving (closing, or its worker died): the next message says so to its client.
    } finally {
      this.owner = undefined;
    }
  }
}

/** Puts a SessionQueue in place of the server's own; call before `start()`. */
export function useSessionQueue(server: PGLiteSocketServer, engine: Engine): void {
  const internals = server as unknown as { queryQueue?: unknown };
  // The field is private to pglite-socket: fail loudly if a new version renamed it, rather than
  // run with the stalling queue.
  if (!internals.queryQueue) throw new Error('pglite-socket has no queryQueue to replace: check the pinned version');
  internals.queryQueue = new SessionQueue(engine);
}

function frame(type: string, body: Uint8Array): Uint8Array {
  const message = new Uint8Array(5 + body.length);
  message[0] = type.charCodeAt(0);
  new DataView(message.buffer).setInt32(1, 4 + body.length);
  message.set(body, 5);
  return message;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}
