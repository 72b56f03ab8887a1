// Plays frames at a steady rate in the page while the server sends them in chunks (one fragment run per chunk).
// data: {sheet (PNG data URL, frames side by side), n, start, fw, fh, fps, px, playing, walk, note}
// Frames carry a global index: a chunk that overlaps what is queued only adds the frames after it.
// The frames are digits (white on black in either theme); the mat around them and the caption follow the page's
// theme through the --st-* properties (theme.js).
const STYLE = `.fp { position: relative; }
  .fp-mat { display: inline-block; max-width: 100%; box-sizing: border-box; padding: 0.3rem; border-radius: 0.5rem;
    background: var(--st-secondary-background-color, #f0f2f6); border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); }
  canvas { image-rendering: pixelated; background: #000; border-radius: 0.25rem; display: block; }
  .fp-cap { font-family: var(--st-font, sans-serif); font-size: 0.875rem; color: var(--st-text-color, inherit); margin-top: 0.35rem; }
  .fp-cap b { font-variant-numeric: tabular-nums; }`;

function setup(root) {
  const canvas = h("canvas", { attrs: { role: "img", "aria-label": "latent walk" }, data: { role: "latent-walk", shown: "0" } });
  const cap = h("div", { className: "fp-cap" });
  const wrap = h("div", { className: "fp" }, h("div", { className: "fp-mat" }, canvas), cap);
  mount(root, STYLE, wrap);
  return { wrap, canvas, cap, ctx: canvas.getContext("2d"), queue: [], next: -1, walk: null, times: [], timer: null, shown: 0, stalls: 0 };
}

function draw(p, f) {
  const { canvas, ctx, d } = p;
  if (canvas.width !== f.fw || canvas.height !== f.fh) {
    canvas.width = f.fw;
    canvas.height = f.fh;
    canvas.style.width = d.px + "px";
    canvas.style.height = Math.round((d.px * f.fh) / f.fw) + "px";
  }
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(f.img, f.sx, 0, f.fw, f.fh, 0, 0, f.fw, f.fh);
  p.shown += 1;
  canvas.dataset.shown = String(p.shown);
  canvas.dataset.frame = String(f.index);
  const now = performance.now();
  p.times.push(now);
  while (p.times.length && now - p.times[0] > 2000) p.times.shift();
  const fps = p.times.length > 1 ? (1000 * (p.times.length - 1)) / (now - p.times[0]) : 0;
  canvas.dataset.fps = fps.toFixed(1);
  caption(p, f.index, fps);
}

function caption(p, index, fps) {
  const d = p.d;
  p.cap.replaceChildren(tx(d, "frame", "frame {i}", { i: index }) + " · ",
                       h("b", { textContent: d.playing ? tx(d, "shown", "{fps} frames/s shown", { fps: fps.toFixed(1) }) : tx(d, "paused", "paused") }),
                       d.note ? ` · ${d.note}` : "");
}

function tick(p) {
  if (!p.canvas.isConnected) { clearInterval(p.timer); p.timer = null; return; }  // the element left the page
  if (!p.d.playing) return;
  const f = p.queue.shift();
  if (f) draw(p, f); else p.stalls += 1;
  p.canvas.dataset.stalls = String(p.stalls);
}

export default function (component) {
  const { data: d, parentElement: root } = component;
  const p = (root.__fp ??= setup(root));
  p.d = d;
  p.canvas.setAttribute("aria-label", tx(d, "aria", "latent walk"));
  followTheme(p, p.wrap, null);  // CSS restyles the mat and the caption
  if (p.walk !== d.walk) { p.walk = d.walk; p.queue = []; p.next = -1; }
  const wasPlaying = p.playing;
  p.playing = d.playing;
  const img = new Image();
  img.onload = () => {
    const frames = [];
    for (let i = 0; i < d.n; i++) frames.push({ img, sx: i * d.fw, fw: d.fw, fh: d.fh, index: d.start + i });
    if (!d.playing) {
      p.queue = [];
      p.next = -1;
      // Paused: keep the frame on screen (the server has already made the next ones); otherwise show the one sent.
      if (wasPlaying && p.shown) caption(p, p.canvas.dataset.frame, 0); else draw(p, frames[frames.length - 1]);
      return;
    }
    for (const f of frames) if (f.index > p.next) { p.queue.push(f); p.next = f.index; }
    const cap = 3 * d.n;  // a late browser skips ahead rather than lagging further behind
    if (p.queue.length > cap) p.queue.splice(0, p.queue.length - cap);
    if (p.shown === 0 && p.queue.length) draw(p, p.queue.shift());
  };
  img.src = d.sheet;
  const period = 1000 / d.fps;
  if (p.timer === null || p.period !== period) {
    if (p.timer !== null) clearInterval(p.timer);
    p.period = period;
    p.timer = setInterval(() => tick(p), period);
  }
}
