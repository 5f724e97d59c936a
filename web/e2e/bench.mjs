// Measures the web panel's first load in headless Chromium on loopback (a benchmark,
// not a test): the JavaScript and CSS the dashboard loads, gzipped, and the time from
// navigation until the dashboard shows the signed-in person's servers, over several
// cold loads.
//
// node e2e/bench.mjs <panel url> <username> <password> [runs]

import { gzipSync } from 'node:zlib';

import { launch, signIn } from './chromium.mjs';

const [panel, username, password, runs = '7'] = process.argv.slice(2);
const browser = await launch();
try {
  const first = await (await browser.newContext()).newPage();
  await signIn(first, panel, username, password);
  const state = await first.context().storageState();

  const times = [];
  let shipped = null;
  for (let run = 0; run < Number(runs); run += 1) {
    // A fresh context each time: nothing cached.
    const context = await browser.newContext({ storageState: state });
    const page = await context.newPage();
    const bodies = [];
    // Sizes are read on the first load only.
    page.on('response', (response) => {
      if (shipped !== null) return;
      const type = response.headers()['content-type'] ?? '';
      if (type.startsWith('text/javascript') || type.startsWith('text/css')) {
        bodies.push(response.body().then((body) => ({ url: response.url(), type, body })));
      }
    });
    await page.goto(`${panel}/`);
    await page.getByTestId('server-card').first().waitFor();
    times.push(await page.evaluate(() => performance.now()));
    if (shipped === null) {
      // Frames load the same files; each counts once.
      const files = [...new Map((await Promise.all(bodies)).map((file) => [file.url, file])).values()];
      if (process.env.BENCH_FILES !== undefined) {
        for (const file of files) console.log(`${(gzipSync(file.body).length / 1024).toFixed(1)} KiB ${file.url}`);
      }
      const size = (kind) =>
        files.filter((file) => file.type.includes(kind)).reduce((sum, file) => sum + gzipSync(file.body).length, 0);
      shipped = { javascript: size('javascript'), css: size('css'), files: files.length };
    }
    await context.close();
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `first load: ${(shipped.javascript / 1024).toFixed(1)} KiB JavaScript + ${(shipped.css / 1024).toFixed(1)} KiB CSS gzipped in ${shipped.files} files`,
  );
  console.log(
    `dashboard interactive (servers shown) after ${median.toFixed(0)} ms median of ${times.length} cold loads (min ${times[0].toFixed(0)}, max ${times.at(-1).toFixed(0)})`,
  );
} finally {
  await browser.close();
}
