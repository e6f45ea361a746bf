import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * How long a connection closed under a client still sending is read on: at most, and with nothing
 * coming (nginx's lingering_time and lingering_timeout).
 */
const LINGER_MS = 30_000;
const LINGER_IDLE_MS = 5000;

/**
 * When the connection is not to carry another request (the client sent `Connection: close`, or the
 * answer says so), Node ends it with `destroySoon()` once the answer is written: a full close, with
 * the client's body still coming. The kernel answers those bytes with a reset, which can throw the
 * answer away before the client has read it (it sees EPIPE or ECONNRESET, not the refusal). Such a
 * socket closes instead as RFC 9112 §9.6 asks: its side first (a FIN after the answer), reading on
 * (Node's parser or the uploads' drain drops what comes), then the whole socket once the client
 * ends its side, goes quiet for LINGER_IDLE_MS, or LINGER_MS have passed.
 *
 * This applies to every answer sent before its request's body was read to the end: an upload
 * refused part-way, a key refused before the body, a mapping suggestion that reads 64 KB.
 * Connections kept alive are not touched: Node reads the rest of the body itself (the uploads'
 * drain bounds it). A stopping server (app.close) closes its lingering sockets at once, and the
 * ones answered from then on as Node does: their clients have their answers.
 */
export function lingerOnUnreadBodies(app: FastifyInstance): void {
  const lingering = new Set<Socket>();
  const changed = new WeakSet<Socket>();
  let stopping = false;
  app.addHook('onSend', async (request) => {
    const socket = request.raw.socket as Socket & { destroySoon?(): void };
    if (request.raw.complete || request.raw.destroyed || changed.has(socket)) return;
    // Not a network socket (inject()'s): nothing to close.
    if (typeof socket.destroySoon !== 'function') return;
    changed.add(socket);
    const closeNow = socket.destroySoon.bind(socket);
    socket.destroySoon = () => (stopping ? closeNow() : closeLingering(socket, lingering));
  });
  app.addHook('preClose', async () => {
    stopping = true;
    for (const socket of lingering) socket.destroy();
  });
}

function closeLingering(socket: Socket, lingering: Set<Socket>): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.end();
  const cap = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => {
    clearTimeout(cap);
    lingering.delete(socket);
  });
  socket.once('end', () => socket.destroy());
  socket.setTimeout(LINGER_IDLE_MS, () => socket.destroy());
}
