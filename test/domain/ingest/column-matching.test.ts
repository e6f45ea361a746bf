import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnNamed, normaliseColumnName, suggestMapping } from '../../../src/domain/ingest/column-matching.js';

const VARIABLES = [
  { name: 'customer_name', required: true },
  { name: 'outstanding_amount', required: false },
  { name: 'due_date', required: false },
];

describe('column name matching', () => {
  it('ignores case, spaces, underscores and hyphens', () => {
    for (const name of ['Customer Name', 'customer-name', 'CUSTOMER_NAME', ' customer  name ', 'CustomerName'])
      assert.equal(normaliseColumnName(name), 'customername', name);
    assert.equal(columnNamed(['mobile', 'Customer Name'], ['customer_name']), 'Customer Name');
  });

  it('does not match a name that only contains the variable', () => {
    assert.equal(columnNamed(['customer_name_2', 'name'], ['customer_name']), undefined);
  });

  it('never maps a required variable to the first column by position', () => {
    const { suggestion, matched, unmapped_required } = suggestMapping(['mobile', 'name', 'balance'], VARIABLES);
    assert.deepEqual(suggestion.app_variables, {});
    assert.deepEqual(unmapped_required, ['customer_name']);
    assert.deepEqual(matched, [{ variable: 'phone_number', column: 'mobile', by: 'name' }]);
    assert.equal(suggestion.phone_number.column_name, 'mobile');
  });

  it('takes phone-like names for the phone number, and leaves it unmapped without one', () => {
    for (const column of ['Phone', 'phone_number', 'MSISDN', 'Mobile No', 'phone-no', 'Telephone', 'cell'])
      assert.equal(suggestMapping(['id', column], []).suggestion.phone_number.column_name, column, column);
    const none = suggestMapping(['id', 'number', 'name'], VARIABLES);
    assert.equal(none.suggestion.phone_number.column_name, '');
    assert.deepEqual(none.unmapped_required, ['phone_number', 'customer_name']);
  });

  it('maps every variable named like a column, optional ones included, and lists what matched', () => {
    const result = suggestMapping(['Due-Date', 'Customer Name', 'Mobile', 'outstanding amount'], VARIABLES);
    assert.deepEqual(result.suggestion, {
      phone_number: { column_name: 'Mobile' },
      app_variables: {
        customer_name: { column_name: 'Customer Name' },
        outstanding_amount: { column_name: 'outstanding amount' },
        due_date: { column_name: 'Due-Date' },
      },
    });
    assert.deepEqual(
      result.matched.map((m) => `${m.variable}=${m.column}`),
      [
        'phone_number=Mobile',
        'customer_name=Customer Name',
        'outstanding_amount=outstanding amount',
        'due_date=Due-Date',
      ],
    );
    assert.deepEqual(result.unmapped_required, []);
  });
});
