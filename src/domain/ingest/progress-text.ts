// How an ingest's progress reads to people, the same in the CLI and the console.

const COUNT = new Intl.NumberFormat('en-US');

/** `1,234,567`: a count for people. */
export function formatCount(count: number): string {
  return COUNT.format(count);
}

/** `42 s`, `3 min 05 s`, `1 h 02 min`: a duration for people. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
