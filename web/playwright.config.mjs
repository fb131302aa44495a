// The browser tests (e2e/*.test.mjs): @playwright/test driving Debian's Chromium against the real
// studio binary and the fake fal, which e2e/fixtures.mjs starts once per worker.
import { defineConfig } from '@playwright/test';
import { chromiumPath, STEP_TIMEOUT_MS } from './e2e/fixtures.mjs';

export default defineConfig({
  testDir: 'e2e',
  // Each file is one long flow through the app; on a loaded machine the longest (a11y) takes
  // well over a minute.
  timeout: 180_000,
  // Each worker starts its own studio, fake fal and Chromium. Measured on 2 loaded cores: one
  // worker 96 s, two 67-79 s (the a11y flow alone is a third of the suite and runs beside the
  // rest), and stable over repeated runs; more would only compete for the same cores.
  workers: Number(process.env.E2E_WORKERS ?? 2),
  // Recording a trace slows every test by about a third, so none is recorded on a first run: a
  // failed test runs once more with a trace (`on-first-retry`), and failOnFlakyTests makes that
  // retry a diagnosis, never a pass.
  retries: 1,
  failOnFlakyTests: true,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list']],
  // Failure artifacts (screenshot, the retry's trace) per test; gitignored with the rest of e2e/artifacts/.
  outputDir: 'e2e/artifacts/results',
  use: {
    browserName: 'chromium',
    // Debian's Chromium, never a downloaded one (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1, no `playwright install`).
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        // Root in a container has no user namespaces for Chromium's sandbox.
        '--no-sandbox',
        '--disable-gpu',
        // Nothing but the studio on the network: no updates, syncing or first-run pages.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
    locale: 'en-US',
    timezoneId: 'UTC',
    actionTimeout: STEP_TIMEOUT_MS,
    navigationTimeout: STEP_TIMEOUT_MS,
    screenshot: 'only-on-failure',
    trace: 'on-first-retry',
  },
});
