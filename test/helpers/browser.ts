import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './spawn-server.js';

/** Debian's Chromium (`apt-get install chromium`); .ci/run installs it when it is missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where browser tests leave their screenshots (git-ignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');

/**
 * A reason to skip the browser suite, or false. Locally a missing Chromium skips with the reason;
 * with CI=true it never skips, so the launch fails and the run with it.
 */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM_PATH) || process.env.CI === 'true') return false;
  return `${CHROMIUM_PATH} is missing: install Debian's chromium package (apt-get install chromium) to run the browser tests`;
}

/** Launches headless Chromium with the flags a container without a display or sandbox needs. */
export async function launchBrowser(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}
