import type { SelectQueryBuilder } from 'kysely';

export interface PageRequest {
  offset: number;
  limit: number;
}

export interface Page<T> {
  rows: T[];
  total: number;
}

/**
 * Runs a filtered query twice: once for one page of rows in a stable order, once for the total.
 * The builder must already hold the filters and the `select`.
 */
export async function fetchPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  orderBy: Array<{ column: string; direction: 'asc' | 'desc' }>,
  page: PageRequest,
): Promise<Page<O>> {
  let rowsQuery = query;
  for (const { column, direction } of orderBy) {
    // The columns come from code, never from a client.
    rowsQuery = rowsQuery.orderBy(column as never, direction);
  }
  const [rows, count] = await Promise.all([
    rowsQuery.limit(page.limit).offset(page.offset).execute(),
    query
      .clearSelect()
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('total'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number((count as { total: number | string | bigint }).total) };
}
