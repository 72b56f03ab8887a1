// A GAN's sample grid made in the page, with its own seed, count and truncation controls: a change decodes at once
// (the server's seeded latents, portableNormal in ort_runtime.js, through the generator on onnxruntime-web, tiled as
// rep_models.images.tile does) and is then reported to the server as the state `view` {seed, n, truncation}, which
// keeps the URL and the download in step. `init` (the URL's or the session's view) is taken when the grid is built.
// data: {net, base, init: {seed, n, truncation}, counts, max_seed, digit (null: a conditional GAN cycles 0..9),
//        cols (0: square-ish), px, text, style (a style-based generator: truncation is psi in W, 0..1, 1 none),
//        noise (a style generator's fixed noise maps: 1 on, 0 off), noise_label (the caption's word for it)}
// The canvas counts its renders (data-renders) and keeps the last decode's time (data-ms) and seed (data-seed). Where
// the runtime cannot start, the state `runtime` becomes {ok: false, reason} and the page draws the server's grid.
const STYLE = `.gg-bar { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: end; margin-bottom: 0.6rem;
    font-family: var(--st-font, sans-serif); font-size: 0.875rem; color: var(--st-text-color, inherit); }
  .gg-bar label { display: flex; flex-direction: column; gap: 0.25rem; }
  .gg-bar input, .gg-bar select, .gg-bar button { font: inherit; color: inherit; border-radius: 0.5rem; box-sizing: border-box;
    border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); background: var(--st-secondary-background-color, #f0f2f6);
    padding: 0.35rem 0.5rem; height: 2.3rem; }
  .gg-bar input[type=number] { width: 6.5rem; }
  .gg-bar input[type=range] { width: 11rem; padding: 0; accent-color: var(--st-primary-color, #c53948); background: none; border: none; }
  .gg-bar button { cursor: pointer; padding: 0 0.7rem; }
  .gg-mat { display: inline-block; max-width: 100%; box-sizing: border-box; padding: 0.3rem; border-radius: 0.5rem;
    background: var(--st-secondary-background-color, #f0f2f6); border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); }
  canvas { image-rendering: pixelated; background: #000; border-radius: 0.25rem; display: block; max-width: 100%; height: auto; }
  .gg-cap { font-family: var(--st-font, sans-serif); font-size: 0.875rem; color: var(--st-text-color, inherit); opacity: 0.75;
    margin-top: 0.35rem; }`;

function setup(root, d) {
  const T = (k, f) => tx(d, k, f);
  const seed = h("input", { type: "number", min: 0, max: d.max_seed, step: 1, value: d.init.seed, attrs: { "aria-label": T("seed", "Seed") } });
  const dice = h("button", { type: "button", textContent: "⚄", attrs: { "aria-label": T("dice", "Random seed"), title: T("dice", "Random seed") } });
  const count = h("select", { attrs: { "aria-label": T("samples", "Samples") } },
                  ...d.counts.map((c) => h("option", { value: String(c), textContent: String(c), selected: c === d.init.n })));
  // z's truncation (values beyond ±t redrawn, 0: none) or, for a style generator, psi in W (1: none)
  const trunc = h("input", { type: "range", min: 0, max: d.style ? 1 : 3, step: d.style ? 0.05 : 0.1, value: d.init.truncation,
                             attrs: { "aria-label": T("truncation", "Truncation"), title: T("truncation_help", "") } });
  const tval = h("span", { className: "gg-tval" });
  const bar = h("div", { className: "gg-bar" },
                h("label", {}, h("span", { textContent: T("seed", "Seed") }), h("div", { style: { display: "flex", gap: "0.4rem" } }, seed, dice)),
                h("label", {}, h("span", { textContent: T("samples", "Samples") }), count),
                h("label", {}, h("span", {}, T("truncation", "Truncation") + " ", tval), trunc));
  const canvas = h("canvas", { width: 28, height: 28, attrs: { role: "img" }, data: { role: "generated-digits", renders: "0" } });
  const cap = h("div", { className: "gg-cap" });
  const wrap = h("div", { className: "gg" }, bar, h("div", { className: "gg-mat" }, canvas), cap);
  mount(root, STYLE, wrap);
  const g = { wrap, seed, dice, count, trunc, tval, canvas, cap, ctx: canvas.getContext("2d"), sig: null, report: null };
  const changed = (delay) => { g.update(); clearTimeout(g.report); g.report = setTimeout(() => g.setStateValue("view", g.view()), delay); };
  seed.addEventListener("keydown", (e) => { if (e.key === "Enter") changed(0); });
  seed.addEventListener("change", () => changed(0));
  dice.addEventListener("click", () => { seed.value = String(Math.floor(Math.random() * (d.max_seed + 1))); changed(0); });
  count.addEventListener("change", () => changed(0));
  trunc.addEventListener("input", () => changed(250));  // a drag decodes every step; the server hears the last one
  g.view = () => {
    const s = Math.round(Number(g.seed.value));
    const seedOk = Number.isFinite(s) && s >= 0 && s <= g.d.max_seed;
    if (!seedOk) g.seed.value = String(g.last?.seed ?? 0);
    const per = g.d.style ? 20 : 10;  // the slider's steps
    return { seed: seedOk ? s : (g.last?.seed ?? 0), n: Number(g.count.value), truncation: Math.round(per * Number(g.trunc.value)) / per };
  };
  g.update = () => render(g);
  return g;
}

async function render(g) {
  const d = g.d, v = g.view();
  g.last = v;
  g.tval.textContent = d.style ? (v.truncation < 1 ? "ψ " + v.truncation.toFixed(2) : "—")
                               : v.truncation > 0 ? "±" + v.truncation.toFixed(1) : "—";
  const sig = JSON.stringify([d.net, v, d.digit, d.cols, d.noise]);
  if (sig === g.sig) return;
  g.sig = sig;
  try {
    const { net } = await session(d.base, d.net);  // the runtime started and the session made: not the grid's time
    const t0 = performance.now();
    const z = Float32Array.from(portableNormal(v.n * net.latent_dim, v.seed, d.style ? 0 : v.truncation));
    const y = d.digit === null || d.digit === undefined ? null : new Array(v.n).fill(d.digit);
    const imgs = await runNet(d.base, d.net, z, v.n, y, d.style ? { psi: v.truncation, noise: d.noise ?? 1 } : null);
    if (g.sig !== sig) return;  // a newer grid was asked for meanwhile
    paintGrid(g.ctx, imgs, v.n, d.cols);
    const ms = performance.now() - t0;
    g.canvas.style.width = Math.min(d.px, g.canvas.width * 8) + "px";
    g.canvas.dataset.renders = String(Number(g.canvas.dataset.renders) + 1);
    g.canvas.dataset.ms = ms.toFixed(2);
    g.canvas.dataset.seed = String(v.seed);
    const how = d.style ? tx(d, "psi_caption", "ψ = {psi} · noise {noise}", { psi: String(v.truncation), noise: d.noise_label ?? "" })
              : v.truncation > 0 ? tx(d, "truncated", "truncation ±{t}", { t: String(v.truncation) }) : tx(d, "untruncated", "no truncation");
    g.cap.textContent = tx(d, "made", "{n} samples · seed {seed} · {how} · decoded in your browser in {ms} ms",
                           { n: v.n, seed: v.seed, how, ms: ms.toFixed(0) }) + (d.cols === 10 ? tx(d, "per_digit", "") : "");
  } catch (err) {
    g.setStateValue("runtime", { ok: false, reason: String((err && err.message) || err) });
  }
}

export default function (component) {
  const { data: d, parentElement: root, setStateValue } = component;
  const g = (root.__gg ??= setup(root, d));
  g.d = d;
  g.setStateValue = setStateValue;
  followTheme(g, g.wrap, null);  // CSS restyles the controls, the mat and the caption
  g.canvas.setAttribute("aria-label", tx(d, "aria", "generated digits"));
  if (g.canvas.dataset.renders === "0") g.cap.textContent = tx(d, "loading", "starting the in-browser runtime…");
  render(g);
}
