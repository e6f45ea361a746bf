/** Slots of the table before it first grows (it doubles when three quarters are taken). */
const INITIAL_SLOTS = 1024;
const TWO_32 = 2 ** 32;
/** An E.164 number: '+', then at most 15 digits with no leading 0, so the digits fit a double exactly. */
const E164 = /^\+[1-9]\d{0,14}$/;

/**
 * The first row of each phone of a file, for finding repeats without a database (a dry run). A
 * phone is kept as its digits in a Float64Array slot and its row in a Uint32Array slot (open
 * addressing), so memory is 12 bytes a slot, 16 to 32 bytes per distinct phone (about 200 MB at
 * ROSTER_MAX_ROWS' default of 10 million, 300 MB while the table doubles) instead of a JavaScript Map's hundred-odd.
 */
export class FirstPhoneRows {
  private keys = new Float64Array(INITIAL_SLOTS);
  private rows = new Uint32Array(INITIAL_SLOTS);
  private size = 0;
  /** Anything that is not plain E.164 (normalised phones always are; kept for safety). */
  private readonly others = new Map<string, number>();

  /** Records `row` as the phone's first row, or answers the earlier row it repeats. */
  firstRowOf(phone: string, row: number): number | undefined {
    if (!E164.test(phone)) {
      const earlier = this.others.get(phone);
      if (earlier === undefined) this.others.set(phone, row);
      return earlier;
    }
    const key = Number(phone.slice(1));
    const slot = this.find(this.keys, key);
    if (this.keys[slot] === key) return this.rows[slot];
    this.keys[slot] = key;
    this.rows[slot] = row;
    this.size++;
    if (this.size * 4 > this.keys.length * 3) this.grow();
    return undefined;
  }

  /** The slot holding `key`, or the empty slot (0: no E.164 number is 0) where it goes. */
  private find(keys: Float64Array, key: number): number {
    const mask = keys.length - 1;
    let slot = hash(key) & mask;
    while (keys[slot] !== 0 && keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    const rows = new Uint32Array(this.keys.length * 2);
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (key === 0) continue;
      const slot = this.find(keys, key);
      keys[slot] = key;
      rows[slot] = this.rows[i]!;
    }
    this.keys = keys;
    this.rows = rows;
  }
}

function hash(key: number): number {
  let h = Math.imul((key % TWO_32) ^ Math.floor(key / TWO_32), 0x9e3779b1);
  h ^= h >>> 15;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}
