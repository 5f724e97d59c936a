/* global document, requestAnimationFrame -- the measuring runs in the page */
// Measures how much console output the console page keeps up with (a benchmark, not a
// test). Open the console of a server that prints numbered lines ("flood line N") as
// fast as it can; over a window, count the lines that reach the screen and the frames
// the page paints, and the frames that took longer than 50 ms (dropped).
//
// node e2e/console-bench.mjs <panel url> <username> <password> <server short id> [seconds]

import { launch, signIn } from './chromium.mjs';

const [panel, username, password, server, seconds = '10'] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, panel, username, password);
  await page.goto(`${panel}/servers/${server}`);
  await page.getByTestId('console').getByText(/flood line \d+/).first().waitFor({ timeout: 60_000 });

  const result = await page.evaluate(async (window) => {
    const newest = () => {
      const rows = [...document.querySelectorAll('[data-testid="console"] .xterm-rows > div')];
      let highest = 0;
      for (const row of rows) {
        const match = /flood line (\d+)/.exec(row.textContent ?? '');
        if (match !== null) highest = Math.max(highest, Number(match[1]));
      }
      return highest;
    };
    const screen = document.querySelector('[data-testid="console"]');
    const counted = () => ({
      written: Number(screen?.dataset.linesWritten ?? 0),
      skipped: Number(screen?.dataset.linesSkipped ?? 0),
    });
    const before = counted();
    const first = newest();
    const started = performance.now();
    let frames = 0;
    let dropped = 0;
    let last = started;
    await new Promise((done) => {
      const tick = (now) => {
        frames += 1;
        if (now - last > 50) dropped += 1;
        last = now;
        if (now - started < window * 1000) requestAnimationFrame(tick);
        else done();
      };
      requestAnimationFrame(tick);
    });
    const elapsed = (performance.now() - started) / 1000;
    const after = counted();
    return {
      lines: newest() - first,
      written: after.written - before.written,
      skipped: after.skipped - before.skipped,
      elapsed,
      frames,
      dropped,
    };
  }, Number(seconds));
  const rate = (count) => (count / result.elapsed).toFixed(0);
  console.log(
    `console over ${result.elapsed.toFixed(1)} s: the server's line counter advanced ${rate(result.lines)}/s on screen; ` +
      `${rate(result.written)} lines/s written to the terminal, ${rate(result.skipped)}/s skipped by the page to keep up ` +
      `(the rest skipped by wings for a slow socket); ${rate(result.frames)} frames/s painted, ${result.dropped} longer than 50 ms`,
  );
} finally {
  await browser.close();
}
