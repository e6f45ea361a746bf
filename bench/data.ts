// Deterministic cohort files for the benchmark: the same seed always writes the same bytes.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const DATA_DIR = path.join(BENCH_DIR, '.data');
export const HEADER = 'mobile,name,balance,payment_due,preferred_language,customer_id';
export const SEED = 20240731;
// Bump when the generator's output changes, so cached files under bench/.data are rewritten.
const GENERATOR_VERSION = 1;
// Valid row j of a file with offset o holds the Indian mobile 98xxxxxxxx with xxxxxxxx = o + j.
export const FIRST_PHONE = 9_800_000_000;

export interface CsvFile {
  path: string;
  rows: number;
  /** Rows whose phone cannot be normalised; every other row is valid and its phone unique. */
  bad: number;
  valid: number;
  bytes: number;
  /** Valid rows hold the phones FIRST_PHONE + offset … FIRST_PHONE + offset + valid - 1. */
  offset: number;
}

/** mulberry32: small, fast and good enough to make benchmark data reproducible. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const FIRST = [
  'Asha',
  'Dev',
  'Farah',
  'Gita',
  'Hari',
  'Ira',
  'Kabir',
  'Lakshmi',
  'Meera',
  'Nikhil',
  'Omkar',
  'Priya',
  'Rahul',
  'Sana',
  'Tanvi',
  'Uday',
  'Vikram',
  'Yamini',
  'Zoya',
  'Arjun',
];
const MIDDLE = ['Kumar', 'Devi', 'Rani', 'Prasad', 'Lal', 'Bai', 'Nath', 'Chand', 'Mohan', 'Kumari'];
const LAST = [
  'Verma',
  'Malhotra',
  'Khan',
  'Iyer',
  'Singh',
  'Das',
  'Chatterjee',
  'Raghunathan',
  'Subramanian',
  'Deshpande',
  'Bhattacharya',
  'Reddy',
  'Nair',
  'Kulkarni',
  'Mukherjee',
  'Pillai',
];
const LANGUAGES = ['Hindi', 'English', 'Tamil', 'Telugu', 'Marathi', 'Bengali', 'Kannada', 'Gujarati'];

/**
 * One phone cell. Valid cells (97%) are national (50 of 100 rows), +91 (25) or 0-prefixed (22);
 * bad cells (3%) are N/A, too short, or a spreadsheet's scientific notation.
 */
export function phoneCell(random: () => number, national: number): { cell: string; bad: boolean } {
  const roll = random();
  if (roll < 0.5) return { cell: String(national), bad: false };
  if (roll < 0.75) return { cell: `+91${national}`, bad: false };
  if (roll < 0.97) return { cell: `0${national}`, bad: false };
  const kind = random();
  if (kind < 1 / 3) return { cell: 'N/A', bad: true };
  if (kind < 2 / 3) return { cell: String(98_000 + Math.floor(random() * 1000)), bad: true };
  return { cell: `9.${String(Math.floor(random() * 100_000)).padStart(5, '0')}E+09`, bad: true };
}

function restOfRow(random: () => number, row: number): string {
  const name = `${pick(random, FIRST)} ${pick(random, MIDDLE)} ${pick(random, LAST)}`;
  const balance = (random() * 2_500_000).toFixed(2);
  const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
  const month = String(1 + Math.floor(random() * 12)).padStart(2, '0');
  const due = `${day}/${month}/${random() < 0.5 ? 2024 : 2025}`;
  return `${name},${balance},${due},${pick(random, LANGUAGES)},CUST-IN-${String(row).padStart(10, '0')}`;
}

/** Writes (or reuses) a CSV of `rows` data rows whose valid phones start at `offset`. */
export function cohortFile(rows: number, offset = 0, seed = SEED): CsvFile {
  mkdirSync(DATA_DIR, { recursive: true });
  const base = path.join(DATA_DIR, `cohort-v${GENERATOR_VERSION}-s${seed}-o${offset}-r${rows}`);
  const file = `${base}.csv`;
  const metaFile = `${base}.json`;
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CsvFile;
    if (statSync(file).size === meta.bytes) return { ...meta, path: file };
  }
  const random = prng(seed ^ offset);
  const fd = openSync(`${file}.tmp`, 'w');
  let bad = 0;
  let valid = 0;
  let bytes = 0;
  let chunk = `${HEADER}\n`;
  for (let row = 0; row < rows; row++) {
    const phone = phoneCell(random, FIRST_PHONE + offset + valid);
    if (phone.bad) bad++;
    else valid++;
    chunk += `${phone.cell},${restOfRow(random, offset + row)}\n`;
    if (chunk.length > 1 << 20) {
      bytes += writeSync(fd, chunk);
      chunk = '';
    }
  }
  bytes += writeSync(fd, chunk);
  closeSync(fd);
  renameSync(`${file}.tmp`, file);
  const meta: CsvFile = { path: file, rows, bad, valid, bytes, offset };
  writeFileSync(metaFile, JSON.stringify(meta));
  return meta;
}

/**
 * The rows of cohortFile(rows) in a shuffled order (fixed seed): the same counts and phones, but not
 * sorted by phone, as most exports are (ordered by customer or date). cohortFile's phones rise row by
 * row, which is the kindest order for a unique index on the phone.
 */
export function shuffledCohortFile(rows: number): CsvFile {
  const sorted = cohortFile(rows);
  const file = sorted.path.replace(/\.csv$/, '-shuffled.csv');
  if (existsSync(file) && statSync(file).size === sorted.bytes) return { ...sorted, path: file };
  const lines = readFileSync(sorted.path, 'utf8').split('\n');
  const header = lines.shift();
  if (lines[lines.length - 1] === '') lines.pop();
  const random = prng(SEED ^ 0x5eed);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
  }
  writeFileSync(`${file}.tmp`, `${header}\n${lines.join('\n')}\n`);
  renameSync(`${file}.tmp`, file);
  return { ...sorted, path: file };
}

/** `count` phone cells with the same mix as the files, for timing normalisation alone. */
export function phoneValues(count: number, seed = SEED): string[] {
  const random = prng(seed);
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push(phoneCell(random, FIRST_PHONE + i).cell);
  return values;
}
