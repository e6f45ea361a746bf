import { type Static, Type } from '@sinclair/typebox';

// The console's requests, typed for its handlers. Lenient on purpose: a page answers a query it
// cannot use with its defaults (an unknown sort, a page number that is no number), as browsers
// keep old links, so query values are optional text the handlers read; only ids are required.
// Console routes are hidden from the API document (console-plugin.ts sets schema.hide).

const Text = Type.Optional(Type.String());
/** A urlencoded form field as it is parsed: text, or a list when the name repeats. */
const FormValue = Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]));
/** A form field as a handler gets it: absent, text, or a list when the name repeats. */
export type FormValue = string | string[] | undefined;

/** A urlencoded form, or none at all (a bare POST): the handlers and the CSRF check read what is there. */
function Form<T extends Record<string, typeof FormValue>>(fields: T) {
  return Type.Union([Type.Object({ _csrf: FormValue, ...fields }), Type.Null()]);
}

export const AssetParams = Type.Object({ name: Type.String() });
export const OrgParams = Type.Object({ org_id: Type.String() });
export const WorkspaceParams = Type.Object({ org_id: Type.String(), workspace_id: Type.String() });
export type WorkspaceParams = Static<typeof WorkspaceParams>;
export const DeploymentParams = Type.Object({
  org_id: Type.String(),
  workspace_id: Type.String(),
  deployment_id: Type.String(),
});
export type DeploymentParams = Static<typeof DeploymentParams>;
export const CohortParams = Type.Composite([DeploymentParams, Type.Object({ cohort_id: Type.String() })]);
/** file_type is checked by the handler, so an unknown one is a 404 page like any missing file. */
export const CohortFileParams = Type.Composite([CohortParams, Type.Object({ file_type: Type.String() })]);
export const BatchParams = Type.Composite([WorkspaceParams, Type.Object({ batch_id: Type.String() })]);
export type BatchParams = Static<typeof BatchParams>;

export const PageQuery = Type.Object({ offset: Text, limit: Text });
export type PageQuery = Static<typeof PageQuery>;
export const CohortListQuery = Type.Composite([
  PageQuery,
  Type.Object({ search: Text, sort_by: Text, sort_order: Text, deleted: Text }),
]);
export const CallerQuery = Type.Object({ phone: Text, country: Text });
export const BatchCallsQuery = Type.Object({ page: Text, status: Text, sort_by: Text, sort_order: Text, search: Text });
export type BatchCallsQuery = Static<typeof BatchCallsQuery>;
/** The calls page, and what an upload or a lifecycle change redirects to it with, for its notice. */
export const BatchDetailsQuery = Type.Composite([
  BatchCallsQuery,
  Type.Object({ created: Text, invalid: Text, duplicate: Text, dnc: Text, now: Text }),
]);
export const SignInQuery = Type.Object({ next: Text });

export const SignInBody = Form({ api_key: FormValue, next: FormValue });
/** Forms whose only field is the token: sign out, delete, pause, resume, cancel. */
export const TokenBody = Form({});
export const DncAddBody = Form({ numbers: FormValue, country: FormValue, reason: FormValue });
export const DncRemoveBody = Form({ phone: FormValue });
export const ErasureBody = Form({ phone_numbers: FormValue, country: FormValue });
/** What a request redirects to the erasure list with, for its notice. */
export const ErasureListQuery = Type.Composite([PageQuery, Type.Object({ requested: Text })]);
export const RetentionBody = Form({ cohort_retention_days: FormValue, cohort_retention_strict: FormValue });
/** What saving the retention policy redirects to the deployment page with, for its notice. */
export const DeploymentQuery = Type.Object({ retention: Text });
