// The page in a real browser: headless Chromium (Debian's) on WebGL2 via SwiftShader, driven by
// playwright-core. Run by web/test.sh, which builds the page, serves it and compares the browser's
// report with the native one.
//
//   node web/test.mjs --url http://127.0.0.1:8765/ --out /tmp/qtwin-web [--native-sha SHA] [--bench-ticks N]
//                     [--native-ticks-per-s T]   (native single-threaded speed, for the 3× budget)
//
// Checks: the first frame arrives (time measured), simulated time advances, the canvas is not
// blank, no error reaches the console; `?bench` speed and report hash; `?demo` steps through the
// tour; a broken scene shows its errors on the page. Writes OUT/web-test.json and screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const base = arg('url', 'http://127.0.0.1:8765/');
const out = arg('out', '/tmp/qtwin-web');
const nativeSha = arg('native-sha', null);
const benchTicks = Number(arg('bench-ticks', '1440'));
const nativeTicksPerS = Number(arg('native-ticks-per-s', '0'));
mkdirSync(out, { recursive: true });

const failures = [];
const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
         '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function open(path, viewport = { width: 1280, height: 720 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', e => errors.push(`pageerror: ${e.message}`));
  const t0 = Date.now();
  await page.goto(base + path);
  return { page, errors, t0 };
}
const data = (page, key) => page.evaluate(k => document.body.dataset[k] ?? null, key);

// Counts colours and spread of a PNG, decoded in the browser itself (no PNG library needed).
async function pixelStats(png) {
  const p = await browser.newPage();
  const stats = await p.evaluate(async b64 => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    const colours = new Set();
    let sum = 0, sum2 = 0, n = 0;
    for (let i = 0; i < d.length; i += 16) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      sum += y; sum2 += y * y; n++;
    }
    const mean = sum / n;
    return { colours: colours.size, luma_std: Math.sqrt(sum2 / n - mean * mean) };
  }, png.toString('base64'));
  await p.close();
  return stats;
}

const result = {};

// 1. The demo city: first frame, time advancing, not blank, no console errors; bench and hash.
{
  const { page, errors, t0 } = await open(`?bench=${benchTicks}`);
  await page.waitForSelector('body[data-frames]', { timeout: 120000 });
  result.first_frame_ms = Number(await data(page, 'firstFrameMs'));
  result.bench_ms = Number(await data(page, 'benchMs'));
  result.bench_ticks = benchTicks;
  result.bench_ticks_per_s = Number(await data(page, 'benchTicksPerS'));
  result.bench_cold_ms = Number(await data(page, 'benchColdMs'));
  result.bench_cold_ticks_per_s = Number(await data(page, 'benchColdTicksPerS'));
  result.report_sha256 = await data(page, 'reportSha256');
  // The first frame after the bench: subtract both runs so the number is the page's own start-up.
  const benchTotalMs = result.bench_ms + result.bench_cold_ms;
  result.first_frame_ms_without_bench = result.first_frame_ms - benchTotalMs;
  const t1 = Number(await data(page, 'simTimeS'));
  await page.waitForTimeout(8000);
  const t2 = Number(await data(page, 'simTimeS'));
  result.sim_time_advanced_s = t2 - t1;
  result.frames_after_8s = Number(await data(page, 'frames'));
  const png = await page.screenshot({ path: `${out}/web.png` });
  result.pixels = await pixelStats(png);
  result.console_errors = errors;
  check(result.first_frame_ms_without_bench > 0 && result.first_frame_ms_without_bench <= 5000,
        `first frame ${result.first_frame_ms_without_bench.toFixed(0)} ms after navigation (≤ 5000 ms; ${result.first_frame_ms.toFixed(0)} ms with the ${benchTotalMs.toFixed(0)} ms of the two bench runs)`);
  check(t2 > t1, `simulated time advanced ${t1} → ${t2} s in 8 s of real time`);
  check(result.pixels.colours > 200 && result.pixels.luma_std > 8,
        `canvas not blank: ${result.pixels.colours} colours, luma σ ${result.pixels.luma_std.toFixed(1)}`);
  check(errors.length === 0, `no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  check(/^[0-9a-f]{64}$/.test(result.report_sha256 ?? ''), `bench: ${benchTicks} ticks at ${result.bench_ticks_per_s} ticks/s (cold, the first run: ${result.bench_cold_ticks_per_s} ticks/s)`);
  if (nativeTicksPerS > 0) {
    // The budget: within 3× of native single-threaded. Recorded, not failed: headless
    // Chromium on a loaded test machine is no fair timing.
    result.native_ticks_per_s_single_threaded = nativeTicksPerS;
    result.native_over_browser = nativeTicksPerS / result.bench_ticks_per_s;
    result.native_over_browser_cold = nativeTicksPerS / result.bench_cold_ticks_per_s;
    console.log(`info native single-threaded ${nativeTicksPerS} ticks/s: the browser is ${result.native_over_browser.toFixed(2)}× slower (budget 3×); ${result.native_over_browser_cold.toFixed(2)}× on its cold first run`);
  }
  if (nativeSha) {
    result.native_sha256 = nativeSha;
    result.report_identical = nativeSha === result.report_sha256;
    if (!result.report_identical) writeFileSync(`${out}/browser-report.json`, await page.evaluate(() => window.QTWIN_REPORT));
    check(result.report_identical, `browser report identical to native (${result.report_sha256.slice(0, 12)} vs ${nativeSha.slice(0, 12)})`);
  }
  await page.close();
}

// 2. The guided tour on a phone-sized screen: it starts by itself and moves on.
{
  const { page, errors } = await open('?demo', { width: 390, height: 844 });
  await page.waitForSelector('body[data-tour-step="0"]', { timeout: 120000 });
  await page.waitForSelector('body[data-tour-step="1"]', { timeout: 20000 }).catch(() => {});
  result.tour_step_after_wait = Number(await data(page, 'tourStep'));
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/web-demo-phone.png` });
  // Any input hands the city back to the visitor.
  await page.mouse.click(200, 300);
  // SwiftShader draws well under a frame a second here: wait for the page to say so.
  await page.waitForSelector('body[data-tour-step="-1"]', { timeout: 30000 }).catch(() => {});
  result.tour_step_after_click = Number(await data(page, 'tourStep'));
  check(result.tour_step_after_wait === 1, `?demo tour moved to step 2 by itself`);
  check(result.tour_step_after_click === -1, `a click stops the tour`);
  check(errors.length === 0, `demo: no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  await page.close();
}

// 3. A broken scene from ?scene=URL: its errors on the page, no crash.
{
  const { page, errors } = await open('?scene=broken.ron');
  await page.waitForSelector('#errors.shown', { timeout: 120000 });
  result.broken_scene_errors = await page.textContent('#errors');
  await page.waitForSelector('body[data-frames]', { timeout: 60000 }).catch(() => {});
  await page.screenshot({ path: `${out}/web-broken.png` });
  check(/error|problem/i.test(result.broken_scene_errors) && result.broken_scene_errors.includes('broken.ron'),
        `broken scene shows its errors: ${result.broken_scene_errors.split('\n')[0]}`);
  check(!errors.some(e => e.startsWith('pageerror')), `broken scene: no page error`);
  await page.close();
}

await browser.close();
result.failures = failures;
writeFileSync(`${out}/web-test.json`, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
process.exit(failures.length ? 1 : 0);
