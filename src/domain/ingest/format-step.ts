// One step of a format chain: what a compiled format function is and how it refuses a value,
// shared by the catalogue of functions and the parsers they are built on.

/** Why one format step refused a value (allocated only when a value fails). */
export class StepFailure {
  constructor(readonly message: string) {}
}

/** One compiled format function: returns the new value or a StepFailure. */
export type StepRun = (value: string) => string | StepFailure;

/** One format function compiled with its options, as a chain runs it. */
export interface CompiledStep {
  /** The function as named in failure reasons, e.g. `date(DD/MM/YYYY)`. */
  readonly label: string;
  readonly run: StepRun;
  /** Only `default` sees blank values; every other function leaves them untouched. */
  readonly fillsBlank: boolean;
}

/** A compile-time result: the compiled thing, or the problems with its options. */
export type Compiled<T> = { ok: true; value: T } | { ok: false; problems: string[] };
