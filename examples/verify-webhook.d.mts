/** examples/verify-webhook.mjs: true when `header` signs `rawBody` with `secret` within the last 5 minutes. */
export function verifyRosterSignature(
  secret: string,
  header: string | string[] | undefined,
  rawBody: string,
  nowSeconds?: number,
): boolean;
