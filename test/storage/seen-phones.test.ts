import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeenPhones } from '../../src/storage/seen-phones.js';

/** A fixed-seed generator, so a failure can be run again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('the phones a load has seen (SeenPhones)', () => {
  it('says false exactly for the first sight of each phone, across growth, like a Set would', () => {
    const next = random(7);
    const seen = new SeenPhones();
    const reference = new Set<string>();
    // 300k sightings of phones from a few country codes, about a third of them repeats, and
    // numbers that differ only in their high or low digits.
    const pool: string[] = [];
    for (let i = 0; i < 300_000; i++) {
      let phone: string;
      if (pool.length > 0 && next() < 0.33) phone = pool[Math.floor(next() * pool.length)]!;
      else {
        const prefix = ['+91', '+1', '+44', '+8613'][Math.floor(next() * 4)]!;
        phone = `${prefix}${String(Math.floor(next() * 1e10)).padStart(10, '0')}`;
        pool.push(phone);
      }
      assert.equal(seen.mayRepeat(phone), reference.has(phone), phone);
      reference.add(phone);
    }
    for (const phone of ['+999999999999999', '+100000000000000', '+1', '+10']) {
      assert.equal(seen.mayRepeat(phone), false, phone);
      assert.equal(seen.mayRepeat(phone), true, phone);
    }
  });

  it('errs only towards "may repeat": past its size, and for what is not E.164', () => {
    const seen = new SeenPhones(3);
    assert.deepEqual(
      ['+911', '+912', '+913'].map((phone) => seen.mayRepeat(phone)),
      [false, false, false],
    );
    // Full: every phone may repeat, the ones seen before too.
    assert.equal(seen.mayRepeat('+914'), true);
    assert.equal(seen.mayRepeat('+915'), true);
    assert.equal(seen.mayRepeat('+911'), true);
    const other = new SeenPhones();
    for (const value of ['919876543210', '+0123', '+1234567890123456', '', '+91 98765']) {
      assert.equal(other.mayRepeat(value), true, JSON.stringify(value));
    }
  });
});
