// A variable an agent declares: what cohorts map columns to and batches fill from their sheets.
import { type Static, Type } from '@sinclair/typebox';

/** One declared variable, as stored with its agent (the agents.variables column holds a list of these). */
export const AgentVariableSchema = Type.Object({
  name: Type.String(),
  required: Type.Boolean(),
  default: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
});

export type AgentVariable = Static<typeof AgentVariableSchema>;
