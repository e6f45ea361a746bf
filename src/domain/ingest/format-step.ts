// The building block of format chains, shared by the modules that implement the functions.

/** Why one format step refused a value (allocated only when a value fails). */
export class StepFailure {
  constructor(readonly message: string) {}
}

/** One compiled format function: returns the new value or a StepFailure. */
export type StepRun = (value: string) => string | StepFailure;

/** A compile-time result: the compiled thing, or the problems with its options. */
export type Compiled<T> = { ok: true; value: T } | { ok: false; problems: string[] };
