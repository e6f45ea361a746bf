import type { TransformationConfig } from '../../src/domain/ingest/transformation-schema.js';

/** The transformation config from the vendor's cohort page, used across the suites. */
export const SEED_CONFIG: TransformationConfig = {
  phone_number: { column_name: 'mobile', country_code: 'IN' },
  app_variables: {
    customer_name: { column_name: 'name' },
    outstanding_amount: { column_name: 'balance' },
    due_date: { column_name: 'payment_due' },
  },
  app_overrides: { initial_language_name: { column_name: 'preferred_language' } },
};
