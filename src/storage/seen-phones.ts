/** How many distinct phones a load remembers at most (16 MB of slots at the most). */
export const SEEN_PHONES_MAX = 1 << 20;

const E164 = /^\+[1-9]\d{0,14}$/;
const FIRST_CAPACITY = 1 << 16;
const TWO_32 = 2 ** 32;

/**
 * The E.164 phones a load has kept so far, to tell whether a kept row may repeat an earlier one:
 * only such rows can be rejected as repeats, so only they need their fields as uploaded staged for
 * the rejection file. The answer errs one way only: `mayRepeat` is true for every phone seen before,
 * and also for any phone once SEEN_PHONES_MAX distinct ones were seen (then the set stops growing)
 * and for a value that is not E.164. Which row of a phone is kept is still decided by the database.
 *
 * A phone is held as the number its digits spell (15 digits at most fit a double exactly) in an
 * open-addressed table of doubles: 8 bytes a slot, at most half full, outside the JavaScript heap.
 */
export class SeenPhones {
  private slots = new Float64Array(FIRST_CAPACITY);
  private size = 0;
  private full = false;

  constructor(private readonly max = SEEN_PHONES_MAX) {}

  /** Records `phone`; false only when it is certainly the first time this load sees it. */
  mayRepeat(phone: string): boolean {
    if (this.full || !E164.test(phone)) return true;
    const key = Number(phone.slice(1));
    const mask = this.slots.length - 1;
    for (let i = slotOf(key) & mask; ; i = (i + 1) & mask) {
      const held = this.slots[i]!;
      if (held === key) return true;
      if (held === 0) {
        if (this.size >= this.max) {
          this.full = true;
          return true;
        }
        this.slots[i] = key;
        this.size++;
        if (this.size * 2 > this.slots.length) this.grow();
        return false;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    const mask = this.slots.length - 1;
    for (const key of old) {
      if (key === 0) continue;
      let i = slotOf(key) & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = key;
    }
  }
}

/** Mixes both 32-bit halves of the key (numbers from a carrier's range share their high digits). */
function slotOf(key: number): number {
  const low = key >>> 0;
  const high = Math.floor(key / TWO_32) >>> 0;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
