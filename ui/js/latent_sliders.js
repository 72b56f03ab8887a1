// Sliders over latent directions, decoded in the browser on every move (no server round trip), by the VAE's decoder
// and the classifier on onnxruntime-web (ort_runtime.js).
// data: {net, classifier|null, base, z0[d], vectors[k][d], scales[k], labels[k], min, max, step, px, state_key, text}
// Where the runtime cannot start, the state `runtime` becomes {ok: false, reason} and the page decodes on the server.
// The decoded digit is a 28x28 canvas scaled up without smoothing; data-renders counts the decodes (tests). It is
// white on black in either theme (a digit); the mat around it, the sliders and the words follow the page's theme
// through the --st-* properties (latent_sliders.css, theme.js).
function fmt(v) { return (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(1); }

function build(root, d) {
  const inputs = d.labels.map((label, i) => ({
    input: h("input", { type: "range", min: d.min, max: d.max, step: d.step, value: 0, attrs: { "aria-label": label }, data: { index: i } }),
    val: h("span", { className: "ll-val" }),
  }));
  const reset = h("button", { type: "button", className: "ll-reset", textContent: "↺ Reset sliders" });
  const canvas = h("canvas", { width: 28, height: 28, attrs: { role: "img", "aria-label": "decoded digit" }, data: { role: "decoded-digit", renders: "0" },
                               style: { width: d.px + "px", height: d.px + "px" } });
  const cap = h("div", { className: "ll-cap" }), sub = h("div", { className: "ll-sub" });
  const rows = d.labels.map((label, i) =>
    h("label", { className: "ll-row" }, h("div", { className: "ll-top" }, h("span", { textContent: label }), inputs[i].val), inputs[i].input));
  mount(root, CSS, h("div", { className: "ll-wrap" }, h("div", { className: "ll-sliders" }, ...rows, reset),
                     h("div", { className: "ll-out" }, h("div", { className: "ll-mat" }, canvas), cap, sub)));
  return { wrap: root.querySelector(".ll-wrap"), inputs, reset, canvas, cap, sub, ctx: canvas.getContext("2d"), image: new ImageData(28, 28) };
}

export default function (component) {
  const { data: d, parentElement: root } = component;
  const sig = JSON.stringify([d.labels, d.min, d.max, d.step, d.px]);
  let ui = root.__ll;
  if (!ui || ui.sig !== sig) {
    ui = root.__ll = { sig, ...build(root, d), pending: false, busy: false, again: false };
    const redraw = () => {  // at most one decode in flight; moves made meanwhile are decoded once it ends
      if (ui.busy) { ui.again = true; return; }
      ui.busy = true;
      render(ui).catch((err) => ui.setStateValue("runtime", { ok: false, reason: String((err && err.message) || err) }))
        .finally(() => { ui.busy = false; if (ui.again) { ui.again = false; redraw(); } });
    };
    ui.redraw = redraw;
    ui.inputs.forEach(({ input }) => input.addEventListener("input", redraw));
    ui.reset.addEventListener("click", () => { ui.inputs.forEach(({ input }) => (input.value = 0)); redraw(); });
  }
  ui.d = d;
  ui.setStateValue = component.setStateValue;
  followTheme(ui, ui.wrap, null);  // CSS restyles what is around the digit
  ui.canvas.setAttribute("aria-label", tx(d, "aria", "decoded digit"));
  ui.reset.textContent = tx(d, "reset", "↺ Reset sliders");
  const saved = LL.state.get(d.state_key);
  if (saved) ui.inputs.forEach(({ input }, i) => (input.value = saved[i] ?? 0));
  ui.sub.textContent = tx(d, "loading", "loading the decoder…");
  ui.redraw();
}

async function render(ui) {
  const d = ui.d;
  await session(d.base, d.net);  // the runtime started and the session made: not the decode's time
  const t0 = performance.now();
  const a = ui.inputs.map(({ input }) => parseFloat(input.value));
  LL.state.set(d.state_key, a);
  const z = Float32Array.from(d.z0);
  a.forEach((amount, i) => {
    const s = amount * d.scales[i], v = d.vectors[i];
    for (let j = 0; j < z.length; j++) z[j] += s * v[j];
  });
  const img = await runNet(d.base, d.net, z, 1);
  const px = ui.image.data;
  for (let i = 0; i < 784; i++) {
    const g = Math.round(255 * Math.min(1, Math.max(0, img[i])));
    px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = g;
    px[4 * i + 3] = 255;
  }
  ui.ctx.putImageData(ui.image, 0, 0);
  const ms = performance.now() - t0;  // the new pixels are on the canvas: what the reader waits for
  ui.canvas.dataset.renders = String(Number(ui.canvas.dataset.renders) + 1);
  ui.canvas.dataset.ms = ms.toFixed(2);
  ui.inputs.forEach(({ val }, i) => (val.textContent = fmt(a[i])));
  if (d.classifier) {
    const p = await runNet(d.base, d.classifier, img, 1);
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    ui.cap.replaceChildren(tx(d, "classifier", "classifier: "), h("b", { textContent: String(best) }), ` (${Math.round(100 * p[best])} %)`);
  }
  let norm = 0;
  for (let j = 0; j < z.length; j++) norm += z[j] * z[j];
  ui.sub.textContent = tx(d, "decoded", "code norm {norm} · decoded in your browser in {ms} ms",
                          { norm: Math.sqrt(norm).toFixed(2), ms: ms.toFixed(1) });
}
