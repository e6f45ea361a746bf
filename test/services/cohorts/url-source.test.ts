import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressRefusal, redactUrl, schemeRefusal } from '../../../src/services/cohorts/url-source.js';

// Only the check itself: nothing here connects anywhere.
describe('the URL source address check', () => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.1.2.3', /loopback/],
    ['::1', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.254', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['fe80::1', /link-local/],
    ['fd00::1', /unique-local/],
    ['fd00:ec2::254', /unique-local/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:10.0.0.1', /private/],
    ['::ffff:169.254.169.254', /link-local/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.100.100.200', /carrier-grade NAT/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
    ['192.0.2.1', /reserved/],
    ['240.0.0.1', /reserved/],
    ['64:ff9b::a00:1', /special-purpose/],
    ['2002:a00:1::', /special-purpose/],
    ['::7f00:1', /IPv4-compatible/],
    ['168.63.129.16', /metadata/],
    ['not-an-address', /not an IP address/],
  ];
  for (const [address, reason] of refused) {
    it(`refuses ${address}`, () => {
      assert.match(addressRefusal(address) ?? 'allowed', reason);
    });
  }

  for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1', '2a00:1450:4001::200e']) {
    it(`allows the public address ${address}`, () => {
      assert.equal(addressRefusal(address), undefined);
    });
  }
});

describe('URL handling for messages and schemes', () => {
  it('shows scheme, host and path but never the query, fragment or credentials', () => {
    const url = new URL(
      'https://user:pass@bucket.s3.amazonaws.com:8443/dir/users.csv?X-Amz-Signature=SECRET&X-Amz-Credential=KEY#frag',
    );
    assert.equal(redactUrl(url), 'https://bucket.s3.amazonaws.com:8443/dir/users.csv');
  });

  it('takes http and https only', () => {
    assert.equal(schemeRefusal(new URL('http://example.com/a.csv')), undefined);
    assert.equal(schemeRefusal(new URL('https://example.com/a.csv')), undefined);
    for (const other of ['file:///etc/passwd', 'ftp://example.com/a.csv', 'gopher://example.com/', 'data:text/csv,a']) {
      assert.match(schemeRefusal(new URL(other)) ?? 'allowed', /only http: and https:/, other);
    }
  });
});
