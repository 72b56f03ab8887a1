// The latent walk made in the page: each frame's latents (rep_models.sampling.walk_latents, the same numbers) through
// the generator on onnxruntime-web, shown at `fps`; the next frame is decoded while this one is on screen.
// data: {net, base, walkers, period, method ("circle" | "random"), seed, playing, fps, px, text}
// Class names as the server-fed frame player's (frame_player.js): the canvas counts the frames shown (data-shown),
// the rate over the last 2 s (data-fps); the caption is .fp-cap. Where the runtime cannot start, the state `runtime`
// becomes {ok: false, reason} and the page falls back to the server's frames.
const STYLE = `.fp-mat { display: inline-block; max-width: 100%; box-sizing: border-box; padding: 0.3rem; border-radius: 0.5rem;
    background: var(--st-secondary-background-color, #f0f2f6); border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); }
  canvas { image-rendering: pixelated; background: #000; border-radius: 0.25rem; display: block; max-width: 100%; height: auto; }
  .fp-cap { font-family: var(--st-font, sans-serif); font-size: 0.875rem; color: var(--st-text-color, inherit); margin-top: 0.35rem; }
  .fp-cap b { font-variant-numeric: tabular-nums; }`;

function setup(root) {
  const canvas = h("canvas", { width: 28, height: 28, attrs: { role: "img" }, data: { role: "latent-walk", shown: "0" } });
  const cap = h("div", { className: "fp-cap" });
  const wrap = h("div", { className: "fp" }, h("div", { className: "fp-mat" }, canvas), cap);
  mount(root, STYLE, wrap);
  return { wrap, canvas, cap, ctx: canvas.getContext("2d"), frame: 0, times: [], shown: 0, sig: null, running: false, ends: null };
}

const f32 = (a) => Float32Array.from(a);  // the server draws its latents in float32 (seeded_normal)

function slerpRow(out, o, a, b, d, t) {
  let n0 = 0, n1 = 0, dot = 0;
  for (let j = 0; j < d; j++) { n0 += a[o + j] ** 2; n1 += b[o + j] ** 2; }
  n0 = Math.sqrt(n0); n1 = Math.sqrt(n1);
  let w0 = 1 - t, w1 = t;
  if (n0 >= 1e-8 && n1 >= 1e-8) {
    for (let j = 0; j < d; j++) dot += (a[o + j] / n0) * (b[o + j] / n1);
    const omega = Math.acos(Math.min(1, Math.max(-1, dot)));
    if (Math.sin(omega) >= 1e-6) { w0 = Math.sin((1 - t) * omega) / Math.sin(omega); w1 = Math.sin(t * omega) / Math.sin(omega); }
  }
  for (let j = 0; j < d; j++) out[o + j] = w0 * a[o + j] + w1 * b[o + j];
}

// The codes (walkers * d) at `frame`: rep_models.sampling.walk_latents.
function walkLatents(p, d, frame) {
  const D = p.d, n = D.walkers, out = new Float32Array(n * d);
  if (D.method === "circle") {
    if (!p.ends || p.ends.key !== p.sig) {
      const a = Float64Array.from(f32(portableNormal(n * d, D.seed))), b = Float64Array.from(f32(portableNormal(n * d, D.seed + 7919)));
      for (let i = 0; i < n; i++) {
        const o = i * d;
        let ab = 0, aa = 0, bb = 0;
        for (let j = 0; j < d; j++) { ab += a[o + j] * b[o + j]; aa += a[o + j] ** 2; }
        for (let j = 0; j < d; j++) b[o + j] -= (ab / aa) * a[o + j];
        for (let j = 0; j < d; j++) bb += b[o + j] ** 2;
        const s = Math.sqrt(aa) / Math.max(Math.sqrt(bb), 1e-12);
        for (let j = 0; j < d; j++) b[o + j] *= s;
      }
      p.ends = { key: p.sig, a, b };
    }
    const th = (2 * Math.PI * (frame % D.period)) / D.period, c = Math.cos(th), s = Math.sin(th);
    for (let k = 0; k < n * d; k++) out[k] = c * p.ends.a[k] + s * p.ends.b[k];
    return out;
  }
  const legLen = Math.max(2, Math.floor(D.period / 4)), leg = Math.floor(frame / legLen), t = (frame % legLen) / legLen;
  const a = f32(portableNormal(n * d, D.seed * 100003 + leg)), b = f32(portableNormal(n * d, D.seed * 100003 + leg + 1));
  for (let i = 0; i < n; i++) slerpRow(out, i * d, a, b, d, t);
  return out;
}

// Frame `frame`'s images and the page's time to make them (latents and decode), ms.
async function decodeFrame(p, frame) {
  const { net } = await session(p.d.base, p.d.net);  // the runtime started and the session made: not the frame's time
  const t0 = performance.now();
  const imgs = await runNet(p.d.base, p.d.net, walkLatents(p, net.latent_dim, frame), p.d.walkers);
  return { imgs, ms: performance.now() - t0 };
}

function show(p, imgs, frame, ms) {
  paintGrid(p.ctx, imgs, p.d.walkers);
  p.canvas.style.width = p.d.px + "px";
  p.shown += 1;
  p.canvas.dataset.shown = String(p.shown);
  p.canvas.dataset.frame = String(frame);
  p.canvas.dataset.ms = ms.toFixed(2);
  const now = performance.now();
  p.times.push(now);
  while (p.times.length && now - p.times[0] > 2000) p.times.shift();
  const fps = p.playing && p.times.length > 1 ? (1000 * (p.times.length - 1)) / (now - p.times[0]) : 0;
  p.canvas.dataset.fps = fps.toFixed(1);
  const d = p.d;
  p.cap.replaceChildren(tx(d, "frame", "frame {i}", { i: frame }) + " · ",
                        h("b", { textContent: p.playing ? tx(d, "shown", "{fps} frames/s shown", { fps: fps.toFixed(1) }) : tx(d, "paused", "paused") }),
                        " · " + tx(d, "per_frame", "{ms} ms a frame in your browser", { ms: ms.toFixed(1) }));
}

async function play(p) {
  if (p.running) return;
  p.running = true;
  try {
    let next = decodeFrame(p, p.frame), due = performance.now();
    while (p.playing && p.canvas.isConnected) {
      const frame = p.frame, { imgs, ms } = await next;
      if (!p.playing) break;
      if (frame !== p.frame) { next = decodeFrame(p, p.frame); continue; }  // a new walk began meanwhile
      next = decodeFrame(p, frame + 1);  // made while this one waits for its time and is shown
      // Frames are due on a fixed schedule (not "a period after the last"), so timer lateness does not add up;
      // a page that fell behind (a busy machine) starts the schedule again rather than rushing to catch up.
      due += 1000 / p.d.fps;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -1000 / p.d.fps) due = performance.now();
      show(p, imgs, frame, ms);
      p.frame = frame + 1;
    }
  } catch (err) {
    p.setStateValue("runtime", { ok: false, reason: String((err && err.message) || err) });
  } finally {
    p.running = false;
  }
}

export default function (component) {
  const { data: d, parentElement: root, setStateValue } = component;
  const p = (root.__wp ??= setup(root));
  p.d = d;
  p.setStateValue = setStateValue;
  followTheme(p, p.wrap, null);  // CSS restyles the mat and the caption
  p.canvas.setAttribute("aria-label", tx(d, "aria", "latent walk"));
  const sig = JSON.stringify([d.net, d.walkers, d.period, d.method, d.seed]);
  if (sig !== p.sig) { p.sig = sig; p.frame = 0; p.times = []; }
  p.playing = !!d.playing;
  if (p.playing) { play(p); return; }
  if (!p.shown) p.cap.textContent = tx(d, "loading", "starting the in-browser runtime…");
  const frame = p.frame;
  decodeFrame(p, frame).then(({ imgs, ms }) => { if (!p.playing && p.sig === sig) show(p, imgs, frame, ms); })
    .catch((err) => setStateValue("runtime", { ok: false, reason: String((err && err.message) || err) }));
}
