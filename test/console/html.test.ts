import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { html, path, query } from '../../src/http/console/html.js';
import { safeCsvLine } from '../../src/domain/ingest/csv-cells.js';

describe('console HTML and CSV output', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const name = `<img src=x onerror="alert('x')">&\``;
    assert.equal(
      html`<p title="${name}">${name}</p>`.text,
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;&#96;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;&#96;</p>',
    );
  });

  it('passes markup built by the tag through, flattens arrays and drops null, undefined and false', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`);
    assert.equal(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.text, '<ul><li>a&lt;b</li><li>c</li></ul>0');
  });

  it('encodes ids in paths and builds query strings from defined values only', () => {
    assert.equal(path`/console/orgs/${'a/../b?x'}`, '/console/orgs/a%2F..%2Fb%3Fx');
    assert.equal(query({ search: 'a&b', offset: 0, empty: '', none: undefined }), '?search=a%26b&offset=0');
  });

  it('writes CSV cells a spreadsheet never runs as formulas', () => {
    assert.equal(safeCsvLine(['phone_number']), 'phone_number');
    assert.equal(safeCsvLine(['=HYPERLINK("x")']), `"'=HYPERLINK(""x"")"`);
    assert.equal(safeCsvLine(['+1']), "'+1");
    assert.equal(safeCsvLine(['-2']), "'-2");
    assert.equal(safeCsvLine(['@SUM(A1)']), "'@SUM(A1)");
    assert.equal(safeCsvLine(['a,b']), '"a,b"');
  });
});
