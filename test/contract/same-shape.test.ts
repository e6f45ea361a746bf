import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertSameShape, shapeDifferences } from './helpers/same-shape.js';

describe('the contract suite’s shape comparison', () => {
  const documented = { status: true, code: 200, errorMessage: '', data: { items: [{ id: 'a', n: 1 }], next: null } };

  it('accepts other values of the same types', () => {
    assertSameShape(
      {
        status: false,
        code: 207,
        errorMessage: 'x',
        data: {
          items: [
            { id: 'b', n: 2 },
            { id: 'c', n: 3 },
          ],
          next: null,
        },
      },
      documented,
      'response',
    );
  });

  it('names a changed type, a missing key and an undocumented key, at any depth and in every array element', () => {
    assert.deepEqual(
      shapeDifferences(
        {
          status: 'success',
          code: 200,
          data: {
            items: [
              { id: 'b', n: 2 },
              { id: 'c', n: '3', extra: 1 },
            ],
            next: null,
          },
        },
        documented,
      ),
      [
        '$.errorMessage: documented, missing',
        '$.status: documented boolean, got string',
        '$.data.items[1].extra: not documented',
        '$.data.items[1].n: documented number, got string',
      ],
    );
  });

  it('tells null, arrays and objects apart', () => {
    assert.deepEqual(shapeDifferences({ a: null, b: {} }, { a: '', b: [] }), [
      '$.a: documented string, got null',
      '$.b: documented array, got object',
    ]);
    assert.throws(() => assertSameShape([], {}, 'body'), /body differs from the documented example/);
  });

  it('lets through only the additions named by their exact path', () => {
    const documentedResult = { result: { total: 1 } };
    const additions = ['$.result.extra'];
    assertSameShape({ result: { total: 2, extra: [] } }, documentedResult, 'body', { additions });
    assert.throws(
      () => assertSameShape({ result: { total: 2, extra: [] }, extra: 1 }, documentedResult, 'body', { additions }),
      /\$\.extra: not documented/,
    );
    assert.throws(
      () => assertSameShape({ result: { extra: [] } }, documentedResult, 'body', { additions }),
      /\$\.result\.total: documented, missing/,
    );
  });
});
