// The page in a real browser: headless Chromium (Debian's) on WebGL2 via SwiftShader, driven by
// playwright-core. Run by web/test.sh, which builds the page, serves it and compares the browser's
// report with the native one.
//
//   node web/test.mjs --url http://127.0.0.1:8765/ --out /tmp/qtwin-web [--native-sha SHA] [--bench-ticks N]
//                     [--native-ticks-per-s T]   (native single-threaded speed, for the 3× budget)
//
//                     [--build web/dist/build.json]   (how the page was built: the size budgets)
//                     [--scenes tests/scenes/broken]  (broken scenes to drop)
//                     [--campus FILE.osm --campus-sha SHA]  (an extract to drop; SHA: its native import)
//                     [--qtwin PATH]   (the native binary: the proposal link decoded and compared natively)
//                     [--only main,tour,url,drop,proposal]   (run only these parts; default all)
//
// Checks: the first frame arrives (time measured), simulated time advances, the canvas is not
// blank, no error reaches the console; `?bench` speed and report hash; `?demo` steps through the
// tour; hostile input — a broken, missing, unreachable or oversized scene by URL, broken, oversized
// and non-scene files dropped on a running city — each shows its message and the page keeps
// drawing frames (a failed drop keeps the city that was open); an OpenStreetMap extract dropped
// on the page is imported there, giving the same scene as `qtwin import`; the module's size
// budgets (full build only); proposal links — edits made in the page shared by the Share button
// (link and QR code), the link opened in a fresh page giving the same comparison numbers as the
// page that made it and as `qtwin proposal decode --compare` natively, and damaged, too long,
// newer and other scenes' links each refused with its message and the unchanged city. Writes
// OUT/web-test.json and screenshots.
import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const base = arg('url', 'http://127.0.0.1:8765/');
const out = arg('out', '/tmp/qtwin-web');
const nativeSha = arg('native-sha', null);
const benchTicks = Number(arg('bench-ticks', '1440'));
const nativeTicksPerS = Number(arg('native-ticks-per-s', '0'));
const buildJson = arg('build', null);
const brokenDir = arg('scenes', 'tests/scenes/broken');
const campus = arg('campus', null);
const campusSha = arg('campus-sha', null);
const qtwinBin = arg('qtwin', null);
const only = arg('only', null);
const part = name => !only || only.split(',').includes(name);
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
  // QTWIN_DIAG=1: every console message of the page, for debugging a part.
  if (process.env.QTWIN_DIAG) page.on('console', m => console.log('CONSOLE', m.text().slice(0, 300)));
  const t0 = Date.now();
  await page.goto(base + path);
  return { page, errors, t0 };
}
const data = (page, key) => page.evaluate(k => document.body.dataset[k] ?? null, key);

// The page is alive: it draws more frames (waits up to 30 s: SwiftShader may draw one a second).
async function alive(page) {
  const f1 = Number(await data(page, 'frames'));
  const ok = await page.waitForFunction(f => Number(document.body.dataset.frames) > f, f1, { timeout: 30000 })
    .then(() => true, () => false);
  return { ok, from: f1, to: Number(await data(page, 'frames')) };
}
// A panic in the module (console_error_panic_hook, a wasm trap) or an uncaught exception.
const fatal = errors => errors.filter(e => /pageerror|panicked|RuntimeError|unreachable/i.test(e));
// Console errors other than the browser's own line about a resource that did not load (a 404, a
// refused connection: what the hostile-URL cases ask for on purpose).
const unexpected = errors => errors.filter(e => !/^Failed to load resource/.test(e));

// Drops files on the page as a user would (a DataTransfer with File objects on a drop event).
async function drop(page, files) {
  const dt = await page.evaluateHandle(fs => {
    const dt = new DataTransfer();
    for (const f of fs) dt.items.add(new File([f.b64 ? Uint8Array.from(atob(f.b64), c => c.charCodeAt(0)) : f.text], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
}
// Waits for the page's next message (data-errors-shown counts them) and returns its text.
async function nextMessage(page, before, timeout = 60000) {
  await page.waitForFunction(n => Number(document.body.dataset.errorsShown ?? 0) > n, before, { timeout });
  return page.textContent('#errors');
}
const shownCount = async page => Number((await data(page, 'errorsShown')) ?? 0);
// After a drop that opens its file: the page reloads with ?scene=dropped; wait for that page's city.
async function reloadedWith(page, scene, timeout) {
  await page.waitForURL(u => new URL(u).searchParams.get('scene') === 'dropped', { timeout });
  await page.waitForFunction(n => document.body.dataset.sceneName === n && Number(document.body.dataset.frames) > 0,
                             scene, { timeout });
}
// A local port nothing listens on: a fetch there fails as a network error.
const closedPort = await new Promise(resolve => {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});

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
// How the page was built (web/build.sh's build.json): the budgets on size and first-frame time
// belong to the full build (profile `web`, wasm-opt); CI's fast `web-ci` build records them.
const build = buildJson ? JSON.parse(readFileSync(buildJson, 'utf8')) : { profile: 'web', wasm_opt: true };
const fullBuild = build.profile === 'web';

// 1. The demo city: first frame, time advancing, not blank, no console errors; bench and hash.
if (part('main')) {
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
  const w0 = Date.now();
  await page.waitForTimeout(8000);
  // Simulated time must advance: within 8 s, or (SwiftShader on a loaded machine may draw a frame
  // every few seconds) within 30 s more.
  await page.waitForFunction(t => Number(document.body.dataset.simTimeS) > t, t1, { timeout: 30000 }).catch(() => {});
  const t2 = Number(await data(page, 'simTimeS'));
  result.sim_time_advanced_s = t2 - t1;
  result.sim_time_wait_ms = Date.now() - w0;
  result.frames_after_wait = Number(await data(page, 'frames'));
  const png = await page.screenshot({ path: `${out}/web.png`, timeout: 180000 });
  result.pixels = await pixelStats(png);
  result.console_errors = errors;
  const firstFrame = `first frame ${result.first_frame_ms_without_bench.toFixed(0)} ms after navigation (${result.first_frame_ms.toFixed(0)} ms with the ${benchTotalMs.toFixed(0)} ms of the two bench runs)`;
  if (fullBuild) check(result.first_frame_ms_without_bench > 0 && result.first_frame_ms_without_bench <= 5000, `${firstFrame}, ≤ 5000 ms`);
  else check(result.first_frame_ms_without_bench > 0, `${firstFrame}; the 5 s budget applies to the full build, not profile ${build.profile}`);
  check(t2 > t1, `simulated time advanced ${t1} → ${t2} s in ${(result.sim_time_wait_ms / 1000).toFixed(0)} s of real time (${result.frames_after_wait} frames)`);
  check(result.pixels.colours > 200 && result.pixels.luma_std > 8,
        `canvas not blank: ${result.pixels.colours} colours, luma σ ${result.pixels.luma_std.toFixed(1)}`);
  check(errors.length === 0, `no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  // The numbers the canvas draws, as text for screen readers (#numbers, aria-live).
  result.numbers_text = await page.textContent('#numbers');
  check(/homes' worth of heat/.test(result.numbers_text ?? ''),
        `the canvas's numbers as text for screen readers: "${(result.numbers_text ?? '').slice(0, 90)}…"`);
  check(/^[0-9a-f]{64}$/.test(result.report_sha256 ?? ''), `bench: ${benchTicks} ticks at ${result.bench_ticks_per_s} ticks/s (cold, the first run: ${result.bench_cold_ticks_per_s} ticks/s)`);
  if (nativeTicksPerS > 0) {
    // The issue's budget: within 3× of native single-threaded. Recorded, not failed: headless
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

// 2b. The embeddable page for residents, in German, with a chosen layer and camera: first frame,
// no panels (one large number), the numbers as German text, the page's language.
{
  const { page, errors } = await open('?embed&lang=de&layer=quantum&camera=300,100,900');
  await page.waitForSelector('body[data-frames]', { timeout: 120000 });
  result.embed_first_frame_ms = Number(await data(page, 'firstFrameMs'));
  await page.waitForFunction(() => /Wohnungen/.test(document.getElementById('numbers')?.textContent ?? ''), null, { timeout: 60000 }).catch(() => {});
  result.embed_numbers_text = await page.textContent('#numbers');
  result.embed_html_lang = await page.evaluate(() => document.documentElement.lang);
  result.embed_page_words = await page.evaluate(() => ['share', 'share-copy', 'drop'].map(id => document.getElementById(id).textContent)
    .concat([document.getElementById('numbers').getAttribute('aria-label')]));
  await page.screenshot({ path: `${out}/web-embed-de.png`, timeout: 180000 });
  const ff = `embed page: first frame ${result.embed_first_frame_ms.toFixed(0)} ms after navigation`;
  if (fullBuild) check(result.embed_first_frame_ms > 0 && result.embed_first_frame_ms <= 5000, `${ff}, ≤ 5000 ms`);
  else check(result.embed_first_frame_ms > 0, `${ff}; the 5 s budget applies to the full build, not profile ${build.profile}`);
  check(/Wohnungen wurden/.test(result.embed_numbers_text ?? '') && /Gebäude am Wärmenetz|Gebäuden am Wärmenetz/.test(result.embed_numbers_text ?? ''),
        `German page: the numbers as German text: "${(result.embed_numbers_text ?? '').slice(0, 90)}…"`);
  check(result.embed_html_lang === 'de', `German page: <html lang="${result.embed_html_lang}">`);
  check(JSON.stringify(result.embed_page_words) === JSON.stringify(['Teilen', 'Link kopieren',
        'Eine Szene (.ron) oder Quartiersdaten (.osm, .geojson, .city.json) hier ablegen, um sie zu öffnen', 'Die Zahlen der Stadt']),
        `German page: the page's own words in German (${result.embed_page_words.join(' · ').slice(0, 60)}…)`);
  check(errors.length === 0, `embed: no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  await page.close();
}

// 2. The guided tour on a phone-sized screen: it starts by itself and moves on.
if (part('tour')) {
  const { page, errors } = await open('?demo', { width: 390, height: 844 });
  await page.waitForSelector('body[data-tour-step="0"]', { timeout: 120000 });
  await page.waitForSelector('body[data-tour-step="1"]', { timeout: 20000 }).catch(() => {});
  result.tour_step_after_wait = Number(await data(page, 'tourStep'));
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/web-demo-phone.png`, timeout: 180000 });
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

// 2c. The tour hands the city over: ← on its first step goes to the last, which shows the "try it
// yourself" button (where the page says it is drawn); Enter presses it and opens the what-if panel
// placing a new site, and a click on the map places one: an edit with a path, so Share can link it.
if (part('tryit')) {
  const r = result.try_it = {};
  const { page, errors } = await open('?demo');
  await page.waitForSelector('body[data-tour-step="0"]', { timeout: 120000 });
  await page.focus('#qtwin');
  await page.waitForTimeout(1000);
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector('body[data-tour-step="8"]', { timeout: 30000 }).catch(() => {});
  r.step = Number(await data(page, 'tourStep'));
  await page.waitForFunction(() => (document.body.dataset.tourTry ?? '') !== '', null, { timeout: 30000 }).catch(() => {});
  r.button = await data(page, 'tourTry');
  // Pressed with Enter (the tour's key for it) at once, within the step's 9 s: egui takes a click
  // only when its press and release are under 0.8 s apart in its frame clock, which software
  // WebGL's second-long frames break, so the button is not clicked with the mouse here.
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-planner-mode="new-site"]', { timeout: 30000 }).catch(() => {});
  r.after_button = { step: Number(await data(page, 'tourStep')), mode: await data(page, 'plannerMode'), open: await data(page, 'plannerOpen') };
  // Then at once (?demo is the kiosk, whose tour starts again after 45 s without a click) the map,
  // right of the what-if window and left of the KPI panel, hovered for two frames first so that
  // bevy's picking knows what is under the pointer when it is pressed. One click must do: the
  // camera still glides after the tour, so at a frame a second the press and the release hit
  // different objects (bevy's `Click` then never fires; the planner takes a press and release a
  // few pixels apart instead). Up to three are tried so that a failure says how many it took.
  const box = await page.locator('#qtwin').boundingBox();
  const waitFrames = async n => {
    const f = Number(await data(page, 'frames'));
    await page.waitForFunction(([f, n]) => Number(document.body.dataset.frames) >= f + n, [f, n], { timeout: 30000 }).catch(() => {});
  };
  r.map_clicks = 0;
  for (let i = 0; i < 3 && !(await data(page, 'proposalCode')) && (await data(page, 'plannerMode')) === 'new-site'; i++) {
    const [px, py] = [box.x + box.width * (0.62 + 0.03 * i), box.y + box.height * 0.35];
    await page.mouse.move(px, py);
    await waitFrames(2);
    await page.mouse.click(px, py);
    r.map_clicks++;
    await page.waitForFunction(() => (document.body.dataset.proposalCode ?? '') !== '', null, { timeout: 10000 }).catch(() => {});
  }
  r.code = await data(page, 'proposalCode');
  r.mode_after_map_click = await data(page, 'plannerMode');
  // One more click there selects what is under the pointer for the inspector (the same
  // press-and-release click as the placing one; the new site or a building beside it).
  if (r.code) {
    const [px, py] = [box.x + box.width * 0.62, box.y + box.height * 0.35];
    await waitFrames(3);
    await page.mouse.click(px, py);
    await page.waitForFunction(() => /^(Site|Building|Pipe|Plant|Node):\d+$/.test(document.body.dataset.selected ?? ''), null, { timeout: 20000 }).catch(() => {});
    r.selected = await data(page, 'selected');
  }
  await page.screenshot({ path: `${out}/web-try-it-placed.png`, timeout: 180000 });
  check(r.step === 8 && /^\d+,\d+,\d+,\d+$/.test(r.button ?? ''), `← on the tour's first step goes to its last, which shows "try it yourself" at ${r.button}`);
  check(r.after_button.step === -1 && r.after_button.mode === 'new-site' && r.after_button.open === '1',
        `"try it yourself" (Enter) ends the tour and opens the what-if panel placing a new site (${JSON.stringify(r.after_button)})`);
  check((r.code ?? '').length > 0 && r.mode_after_map_click === 'off' && r.map_clicks === 1, `one click on the map places the site, an edit Share can link (code ${r.code}; ${r.map_clicks} click(s))`);
  check(/^(Site|Building|Pipe|Plant|Node):\d+$/.test(r.selected ?? ''), `a click on the map then selects what is under it for the inspector (${r.selected})`);
  check(errors.length === 0, `try it yourself: no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  await page.close();
}

// 3. Hostile scenes by URL: each shows its message and the page runs (the broken scene's error
// screen; the demo city instead of a scene it could not fetch or that is over the limit).
result.by_url = {};
if (part('url')) for (const [key, path, expect, city] of [
  ['broken', '?scene=broken.ron', m => /error|problem/i.test(m) && m.includes('broken.ron'), null],
  ['missing', '?scene=missing.ron', m => m.includes('missing.ron: HTTP 404') && m.includes('demo city'), 'Riverside'],
  ['unreachable', `?scene=http://127.0.0.1:${closedPort}/away.ron`, m => m.includes('could not fetch it') && m.includes('demo city'), 'Riverside'],
  ['oversized', '?scene=huge.ron', m => m.includes('huge.ron: the file is larger than the limit of 256 MiB (256.0 MiB)'), 'Riverside'],
]) {
  const { page, errors } = await open(path);
  await page.waitForSelector('#errors.shown', { timeout: 120000 });
  const msg = await page.textContent('#errors');
  await page.waitForSelector('body[data-frames]', { timeout: 120000 }).catch(() => {});
  const live = await alive(page);
  const scene = await data(page, 'sceneName');
  if (key === 'broken') await page.screenshot({ path: `${out}/web-broken.png`, timeout: 180000 });
  result.by_url[key] = { message: msg, frames: [live.from, live.to], scene, console_errors: errors };
  check(expect(msg), `${key} scene by URL shows: ${msg.split('\n')[0]}`);
  check(live.ok, `${key} scene by URL: the page keeps drawing (frames ${live.from} → ${live.to})${city ? `, ${scene ?? 'no'} city` : ''}`);
  if (city) check(scene === city, `${key} scene by URL: the ${city} demo city runs instead`);
  check(fatal(errors).length === 0 && unexpected(errors).length === 0, `${key} scene by URL: no panic or page error${errors.length ? ': ' + errors.join(' | ') : ''}`);
  if (key === 'broken') {
    // A valid drop on the error screen opens it.
    await drop(page, [{ name: 'riverside.ron', text: readFileSync('scenes/riverside.ron', 'utf8') }]);
    await reloadedWith(page, 'Riverside', 120000).catch(() => {});
    check(await data(page, 'sceneName') === 'Riverside', `a valid scene dropped on the broken scene's page opens it`);
  }
  await page.close();
}

// 4. Hostile files dropped on a running city: each shows its message, and the city that was open
// keeps running (no reload: a marker set in the page survives).
if (part('drop')) {
  const { page, errors } = await open('');
  await page.waitForSelector('body[data-frames]', { timeout: 120000 });
  await page.evaluate(() => { window.QTWIN_TEST_MARKER = 1; });
  const cases = [
    ['broken scene', [{ name: 'semantic.ron', text: readFileSync(`${brokenDir}/semantic.ron`, 'utf8') }],
     m => m.includes('semantic.ron') && m.includes('nowhere')],
    ['syntax error', [{ name: 'syntax.ron', text: readFileSync(`${brokenDir}/syntax.ron`, 'utf8') }],
     m => /syntax\.ron:\d+:\d+/.test(m)],
    ['non-scene text', [{ name: 'notes.txt', text: 'Remember to buy milk.\n' }], m => m.includes('notes.txt')],
    ['binary file', [{ name: 'photo.png', b64: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00, 0x80]).toString('base64') }],
     m => m.includes('photo.png: not UTF-8 text')],
    ['OpenStreetMap PBF', [{ name: 'district.osm.pbf', b64: Buffer.from([0, 0, 0, 13, 10, 9]).toString('base64') }],
     m => m.includes('district.osm.pbf: OpenStreetMap PBF is binary')],
    ['broken district data', [{ name: 'district.geojson', text: '{"type": "FeatureCollection", "features": [' }],
     m => m.includes('district.geojson')],
  ];
  result.dropped = {};
  for (const [what, files, expect] of cases) {
    const before = await shownCount(page);
    await drop(page, files);
    const msg = await nextMessage(page, before).catch(() => '(no message)');
    result.dropped[what] = msg;
    check(expect(msg), `dropped ${what} shows: ${msg.split('\n')[0].slice(0, 160)}`);
  }
  // A file one byte over the limit, refused from its size alone: it must not be read.
  {
    const before = await shownCount(page);
    const reads = await page.evaluate(size => {
      const file = { name: 'huge.osm', size, reads: 0 };
      for (const m of ['text', 'arrayBuffer', 'stream', 'slice', 'bytes']) file[m] = () => { file.reads++; throw new Error('read'); };
      window.QTWIN_TEST_HUGE = file;
      const ev = new Event('drop', { bubbles: true, cancelable: true });
      Object.defineProperty(ev, 'dataTransfer', { value: { files: [file] } });
      document.body.dispatchEvent(ev);
      return file.reads;
    }, 256 * 1048576 + 1);
    const msg = await nextMessage(page, before).catch(() => '(no message)');
    const readsAfter = await page.evaluate(() => window.QTWIN_TEST_HUGE.reads);
    result.dropped.oversized = msg;
    check(msg.includes('huge.osm: the file is larger than the limit of 256 MiB (256.0 MiB)') && reads === 0 && readsAfter === 0,
          `dropped oversized file refused unread: ${msg.split('\n')[0]}`);
  }
  const live = await alive(page);
  const marker = await page.evaluate(() => window.QTWIN_TEST_MARKER ?? null);
  const scene = await data(page, 'sceneName');
  await page.screenshot({ path: `${out}/web-dropped-broken.png`, timeout: 180000 });
  result.dropped_frames = [live.from, live.to];
  result.dropped_console_errors = errors;
  check(live.ok && marker === 1 && scene === 'Riverside',
        `after the failed drops the same city keeps running (frames ${live.from} → ${live.to}, no reload, ${scene})`);
  check(errors.length === 0, `failed drops: no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);

  // 5. District data dropped on the page is imported there — the same scene as `qtwin import`
  // natively — and then runs.
  if (campus) {
    const text = readFileSync(campus, 'utf8');
    const name = campus.split('/').pop();
    const t0 = Date.now();
    await drop(page, [{ name, text }]);
    await reloadedWith(page, `Imported district (${name})`, 180000).catch(() => {});
    result.campus_import_to_first_frame_ms = Date.now() - t0;
    result.campus_scene = await data(page, 'sceneName');
    result.campus_buildings = Number(await data(page, 'buildings'));
    result.campus_imported_buildings = Number(await data(page, 'importedBuildings'));
    result.campus_scene_sha256 = await data(page, 'sceneSha256');
    const t1 = Number(await data(page, 'simTimeS'));
    const liveCampus = await alive(page);
    await page.waitForFunction(t => Number(document.body.dataset.simTimeS) > t, t1, { timeout: 30000 }).catch(() => {});
    const t2 = Number(await data(page, 'simTimeS'));
    await page.screenshot({ path: `${out}/web-campus.png`, timeout: 180000 });
    result.campus_console_errors = errors;
    check(result.campus_scene === `Imported district (${name})` && result.campus_imported_buildings > 0,
          `dropped ${name} imported in the page: ${result.campus_imported_buildings} buildings imported, ${result.campus_buildings} in the scene (${result.campus_import_to_first_frame_ms} ms to its first frame)`);
    if (campusSha) {
      result.campus_native_sha256 = campusSha;
      check(result.campus_scene_sha256 === campusSha,
            `the page's import gives the same scene as \`qtwin import\` (${(result.campus_scene_sha256 ?? 'none').slice(0, 12)} vs ${campusSha.slice(0, 12)})`);
    }
    check(liveCampus.ok && t2 > t1, `the imported district runs: frames ${liveCampus.from} → ${liveCampus.to}, simulated time ${t1} → ${t2} s`);
    check(errors.length === 0, `import: no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  } else {
    console.log('skip the drop-an-extract case: no --campus extract given');
  }
  await page.close();
}

// 7. Proposal links.
if (part('proposal')) {
  const r = result.proposal = {};
  const compareOf = async page => {
    await page.waitForSelector('body[data-compare]', { timeout: 600000 });
    return JSON.parse(await data(page, 'compare'));
  };
  // A proposal made in the page: a new site placed on the map, insulation, a colder network, PV
  // on two roofs — the edits the "What if…" panel makes — then its comparison with the baseline.
  const edits = [['sites.q4.pos', '0:200'], ['pipes.*.insulation', 'Series3'], ['network.supply_shift_k', '-10'],
                 ['pv.b0001+b0002.peak_w', 'auto']];
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(base).origin });
  const made = await ctx.newPage();
  const madeErrors = [];
  made.on('console', m => { if (m.type() === 'error') madeErrors.push(m.text()); });
  made.on('pageerror', e => madeErrors.push(`pageerror: ${e.message}`));
  await made.goto(base);
  await made.waitForSelector('body[data-frames]', { timeout: 120000 });
  await made.evaluate(es => { for (const [p, v] of es) window.qtwin.applyEdit(p, v); window.qtwin.startCompare(); }, edits);
  const t0 = Date.now();
  r.made = await compareOf(made);
  r.made_compare_ms = Date.now() - t0;
  r.code = await data(made, 'proposalCode');
  // The Share button: the link, copied, with its QR code.
  await made.click('#share');
  await made.waitForSelector('#share-qr svg', { timeout: 30000 });
  await made.waitForSelector('body[data-share-copied]', { timeout: 30000 }).catch(() => {});
  r.link = await data(made, 'shareLink');
  r.link_chars = r.link.length;
  r.code_chars = r.code.length;
  r.copied = await data(made, 'shareCopied');
  r.clipboard = await made.evaluate(() => navigator.clipboard.readText()).catch(e => `(${e.message})`);
  r.qr_view_box = await made.getAttribute('#share-qr svg', 'viewBox');
  await made.screenshot({ path: `${out}/web-share.png`, timeout: 180000 });
  check(r.link === `${base}#p=${r.code}` && r.code.length > 0 && r.code.length <= 2000,
        `Share: a link of ${r.link_chars} characters (code ${r.code_chars}) for ${edits.length} edits`);
  check(r.clipboard === r.link, `Share copies the link (${r.copied})`);
  check(/^0 0 \d+ \d+$/.test(r.qr_view_box ?? ''), `Share shows a QR code of the link (viewBox ${r.qr_view_box})`);
  check(r.made.kpis && r.made.ticks === 2880, `the page that made it compares ${r.made.ticks} ticks: CO₂ ${r.made.kpis.co2_kg.base.toFixed(1)} → ${r.made.kpis.co2_kg.variant.toFixed(1)} kg, unmet ${r.made.kpis.unmet_heat_kwh.base.toFixed(1)} → ${r.made.kpis.unmet_heat_kwh.variant.toFixed(1)} kWh, ${r.made.homes_colder} homes colder (${r.made_compare_ms} ms)`);
  check(fatal(madeErrors).length === 0 && unexpected(madeErrors).length === 0, `making a proposal: no console errors${madeErrors.length ? ': ' + madeErrors.join(' | ') : ''}`);
  await ctx.close();

  // Its link opened in a fresh page: the edits applied live, the same comparison numbers.
  {
    const { page, errors } = await open(r.link.slice(base.length));
    await page.waitForSelector('body[data-proposal-status]', { timeout: 120000 });
    r.opened_status = await data(page, 'proposalStatus');
    r.opened_edits = Number(await data(page, 'proposalEdits'));
    r.opened_banner = await page.textContent('#proposal-banner');
    r.opened = await compareOf(page);
    await page.screenshot({ path: `${out}/web-proposal.png`, timeout: 180000 });
    check(r.opened_status === 'applied' && r.opened_edits === edits.length && r.opened_banner.includes(`${edits.length} edits applied`),
          `the link opened in a fresh page: ${r.opened_status}, ${r.opened_edits} edits; "${r.opened_banner.slice(0, 60)}…"`);
    check(JSON.stringify(r.opened) === JSON.stringify(r.made), `the fresh page gives the same comparison numbers as the page that made it`);
    check(errors.length === 0, `opening a proposal: no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
    await page.close();
  }
  // The same link natively: `qtwin proposal decode --compare` gives the same numbers.
  if (qtwinBin) {
    execFileSync(qtwinBin, ['proposal', 'decode', 'scenes/riverside.ron', r.link, '--compare', '--days', String(r.made.days),
                            '--json', `${out}/native-compare.json`], { stdio: ['ignore', 'inherit', 'inherit'] });
    r.native = JSON.parse(readFileSync(`${out}/native-compare.json`, 'utf8'));
    check(JSON.stringify(r.native) === JSON.stringify(r.made), `\`qtwin proposal decode --compare\` natively gives the same numbers`);
  }

  // Bad links: each says what is wrong, and the unchanged city runs.
  const bytes = Buffer.from(r.code, 'base64url');
  const forge = version => {
    const b = Buffer.from(bytes.subarray(0, bytes.length - 4));
    b[0] = version;
    return Buffer.concat([b, createHash('sha256').update(b).digest().subarray(0, 4)]).toString('base64url');
  };
  const flipped = r.code.slice(0, 20) + (r.code[20] === 'A' ? 'B' : 'A') + r.code.slice(21);
  r.bad = {};
  for (const [key, path, expect] of [
    ['damaged', `#p=${flipped}`, m => m.includes('the proposal link is damaged')],
    ['truncated', `#p=${r.code.slice(0, r.code.length - 6)}`, m => m.includes('the proposal link is damaged')],
    ['too long', `#p=${'A'.repeat(2001)}`, m => m.includes('too long') && m.includes('2001 characters, over the limit of 2000')],
    ['newer version', `#p=${forge(2)}`, m => m.includes('made by a newer qtwin (link format 2')],
    ['another scene', `?scene=other.ron#p=${r.code}`, m => m.includes('made for another scene')],
    ['damaged, German page', `?lang=de#p=${flipped}`, m => m.includes('Der Vorschlagslink ist beschädigt')],
  ]) {
    const { page, errors } = await open(path);
    await page.waitForSelector('body[data-proposal-status]', { timeout: 120000 });
    const status = await data(page, 'proposalStatus');
    const msg = await data(page, 'proposalError');
    const banner = await page.isVisible('#proposal-banner') ? await page.textContent('#proposal-banner') : null;
    await page.waitForSelector('body[data-frames]', { timeout: 120000 }).catch(() => {});
    const live = await alive(page);
    const compared = await data(page, 'compare');
    const scene = await data(page, 'sceneName');
    if (key === 'damaged') await page.screenshot({ path: `${out}/web-proposal-damaged.png`, timeout: 180000 });
    r.bad[key] = { status, message: msg, frames: [live.from, live.to], console_errors: errors };
    const unchanged = key.endsWith('German page') ? 'Die Stadt öffnet unverändert.' : 'The city opens unchanged.';
    check(status === 'error' && expect(msg ?? '') && banner === msg && msg.endsWith(unchanged),
          `${key} link: ${(msg ?? '(no message)').slice(0, 150)}`);
    check(live.ok && compared === null && scene === 'Riverside', `${key} link: the unchanged city runs (frames ${live.from} → ${live.to}, no edits)`);
    check(fatal(errors).length === 0, `${key} link: no panic or page error${errors.length ? ': ' + errors.join(' | ') : ''}`);
    await page.close();
  }
}

// 6. The module's size budgets: for the full build (profile `web`, wasm-opt) only; CI's fast
// `web-ci` build is far larger by design and only records its sizes.
if (buildJson) {
  const b = build;
  result.build = b;
  const mb = n => (n / 1e6).toFixed(2);
  if (fullBuild && b.wasm_opt) {
    check(b.page_bytes <= 20e6, `module ${mb(b.page_bytes)} MB in the page (≤ 20 MB)`);
    check(b.gzip_bytes <= 6e6, `module ${mb(b.gzip_bytes)} MB gzipped (≤ 6 MB)`);
  } else {
    console.log(`info size budgets not checked: profile ${b.profile}${b.wasm_opt ? '' : ' without wasm-opt'} (module ${mb(b.page_bytes)} MB, ${mb(b.gzip_bytes)} MB gzipped); they apply to web/build.sh's full build`);
  }
}

await browser.close();
result.failures = failures;
writeFileSync(`${out}/web-test.json`, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
process.exit(failures.length ? 1 : 0);
