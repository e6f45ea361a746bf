/** The events a webhook may subscribe to. Pure data: the CLI reads it without loading the server. */
export const WEBHOOK_EVENTS = [
  'cohort.completed',
  'cohort.failed',
  'batch.completed',
  'call.reported',
  'erasure.completed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
