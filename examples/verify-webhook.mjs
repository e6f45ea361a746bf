// Checks Roster's webhook signatures. Run it as a receiver (no dependencies):
//   WEBHOOK_SECRET=whsec_… PORT=8787 node examples/verify-webhook.mjs
// or import verifyRosterSignature into your own server. Verify the raw body, before parsing it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

/**
 * True when `header` (Roster-Signature: t=<unix seconds>,v1=<hex>) signs `rawBody` with `secret`
 * and was made within the last 5 minutes; false for anything else, a replayed old delivery included.
 */
export function verifyRosterSignature(secret, header, rawBody, nowSeconds = Math.floor(Date.now() / 1000)) {
  const fields = new Map(
    String(header ?? '')
      .split(',')
      .map((field) => field.trim().split('=', 2)),
  );
  const timestamp = Number(fields.get('t'));
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > 5 * 60) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  const given = Buffer.from(fields.get('v1') ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret) throw new Error('Set WEBHOOK_SECRET to the secret Roster answered when the webhook was created.');
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verifyRosterSignature(secret, request.headers['roster-signature'], body)) {
        console.log('refused: bad or old signature');
        response.writeHead(400).end();
        return;
      }
      const event = JSON.parse(body);
      console.log(`verified ${event.type} ${event.id}`);
      response.writeHead(204).end();
    });
  });
  server.listen(Number(process.env.PORT ?? 8787), '127.0.0.1', () =>
    console.log(`listening on http://127.0.0.1:${server.address().port}`),
  );
}
