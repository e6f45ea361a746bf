// The transformation config's one schema: parseTransformationConfig checks a config against it,
// the config's types are derived from it, and the OpenAPI document shows it for both cohort
// sources. What a schema cannot say (a supported country, the format functions and their options,
// a column present in the header) is checked in code after the shape: see transformation-config.ts
// and ingest-plan.ts.
import { type Static, Type } from '@sinclair/typebox';
import { FORMAT_FUNCTION_NAMES } from './format-chain.js';

/** The app_overrides keys the vendor contract allows. */
export const ALLOWED_APP_OVERRIDES = ['initial_bot_message', 'initial_state_name', 'initial_language_name'] as const;
export type AppOverrideName = (typeof ALLOWED_APP_OVERRIDES)[number];

/** A string that is not only whitespace; parseTransformationConfig says "must not be empty" otherwise. */
export const NON_BLANK = '\\S';

const ColumnName = Type.String({ pattern: NON_BLANK, description: 'A header of the CSV (surrounding spaces ignored)' });

// CountryCodeSchema and FormatSchema are refined in code, which finds them by identity: they are
// declared optional here, once, rather than wrapped by Type.Optional (a copy) where they are used.

/** ISO 3166 alpha-2; whether libphonenumber supports it is checked in code, and it is upper-cased once read. */
export const CountryCodeSchema = Type.Optional(
  Type.String({
    description: 'ISO 3166 alpha-2 country for national numbers (e.g. IN); overrides the deployment default_country',
    examples: ['IN'],
  }),
);

export const PhoneNumberMappingSchema = Type.Object(
  { column_name: ColumnName, country_code: CountryCodeSchema },
  {
    additionalProperties: false,
    description: 'The column holding the phone number (required)',
    // Shown in the message when phone_number is missing.
    examples: [{ column_name: '<phone column>', country_code: 'IN' }],
  },
);

export const UserIdentifierMappingSchema = Type.Object(
  { column_name: ColumnName, required: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, description: 'The column with your own id for the user' },
);

const Required = Type.Boolean({ description: 'An empty cell rejects the row (unless fallback_value is set)' });
const FallbackValue = Type.String({ description: 'Stored as is when the cell is empty' });

export const AppOverrideMappingSchema = Type.Object(
  { column_name: ColumnName, required: Type.Optional(Required), fallback_value: Type.Optional(FallbackValue) },
  { additionalProperties: false },
);

/** A function name with default options ("trim"), or an object naming it in `fn` with options. */
export const FormatSpecSchema = Type.Union([
  Type.String({ enum: [...FORMAT_FUNCTION_NAMES], description: 'A format function with its default options' }),
  // Each function's options are checked by the format catalogue, which the README documents.
  Type.Unsafe<{ fn: string; [option: string]: unknown }>(
    Type.Object(
      { fn: Type.String({ enum: [...FORMAT_FUNCTION_NAMES] }) },
      { additionalProperties: true, description: 'A format function and its options' },
    ),
  ),
]);

export const FormatSchema = Type.Optional(
  Type.Union([FormatSpecSchema, Type.Array(FormatSpecSchema)], {
    description: 'One format function, or a list applied in order',
  }),
);

export const AppVariableMappingSchema = Type.Object(
  {
    column_name: ColumnName,
    required: Type.Optional(Required),
    fallback_value: Type.Optional(FallbackValue),
    format: FormatSchema,
  },
  { additionalProperties: false },
);

export const TransformationConfigSchema = Type.Object(
  {
    phone_number: PhoneNumberMappingSchema,
    user_identifier: Type.Optional(UserIdentifierMappingSchema),
    app_variables: Type.Optional(
      Type.Record(Type.String(), AppVariableMappingSchema, {
        description: "The agent's variables, each read from a column",
      }),
    ),
    app_overrides: Type.Optional(
      Type.Record(Type.String(), AppOverrideMappingSchema, {
        description: `Per-contact overrides, each read from a column: ${ALLOWED_APP_OVERRIDES.join(', ')}`,
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'TransformationConfig',
    description: "Maps CSV columns to the phone number and the agent's variables. A null field counts as absent.",
  },
);

export type PhoneNumberMapping = Static<typeof PhoneNumberMappingSchema>;
export type UserIdentifierMapping = Static<typeof UserIdentifierMappingSchema>;
export type AppOverrideMapping = Static<typeof AppOverrideMappingSchema>;
export type AppVariableMapping = Static<typeof AppVariableMappingSchema>;
export type FormatSpec = Static<typeof FormatSpecSchema>;
/** A checked config: country_code upper-cased, null fields removed. */
export type TransformationConfig = Static<typeof TransformationConfigSchema>;
