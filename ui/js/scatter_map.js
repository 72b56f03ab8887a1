// The latent map: 10,000 points drawn with WebGL (a 2-D canvas where WebGL is missing), hover names a point,
// a drag draws a lasso, a click picks the nearest point, a double click clears; the wheel zooms.
// The points ({x[], y[], labels[], ids[]}) come in their own element (map_points.js, registered by id in
// globalThis.__latentLab.points): unchanged points are sent once and then by reference, so a filter, a search or a
// batch of thumbnails changes only this component's small data:
// data: {points (id), colour, colours[10], mark: [x, y] | null, height, visible: [labels shown] | null,
//        focus: test id | null (found by search: selected, ringed and zoomed to), thumbs: {ids[], sheet, cols} | null}
// state "selection": {ids: [...]} (test-set indices), sent when a lasso or click ends;
// state "want": {ids: [...]}: when the zoom shows at most THUMB_MAX points, the ids still without a thumbnail
// (the server answers with a sheet of those 28x28 digits in data.thumbs; nothing is asked for on a first load).
// "Isolate" shows only the selected points (and "Show all" every one again), in the page alone.
// The page's theme (theme.js): the background (WebGL's clear colour, or the 2-D canvas's fill), the star's outline
// and label, and the lasso (the theme's primary colour) are painted in its colours and repainted when it changes;
// the legend, the tip and the button follow it in CSS. The digits' colours are the same in both themes.
const STYLE = `
.sm { position: relative; font-family: var(--st-font, sans-serif); font-size: 0.8rem; color: var(--st-text-color, #31333f); }
.sm canvas { position: absolute; left: 0; top: 0; }
.sm .overlay { cursor: crosshair; touch-action: none; }
.sm .tip { position: absolute; pointer-events: none; background: var(--st-text-color, #262730);
  color: var(--st-background-color, #fff); opacity: 0.92; padding: 2px 6px; border-radius: 4px; white-space: nowrap; display: none; }
.sm .bar { position: absolute; right: 6px; top: 6px; display: flex; gap: 6px; align-items: center; }
.sm .legend { display: flex; gap: 8px; flex-wrap: wrap; }
.sm .legend span::before { content: ""; display: inline-block; width: 9px; height: 9px; border-radius: 50%;
  background: var(--c); margin-right: 3px; }
.sm button:disabled { opacity: 0.45; cursor: default; }
.sm button { font: inherit; padding: 1px 8px; white-space: nowrap; border-radius: 6px; cursor: pointer;
  background: var(--st-secondary-background-color, rgba(255, 255, 255, 0.85));
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.25)); color: inherit; }`;

const THUMB_MAX = 300;  // at most this many points in view: drawn as their digits
const THUMB_PX = 28;  // a thumbnail's side in CSS pixels (one image pixel per CSS pixel)
// s: 0 = plain, 1 = selected, 2 = hidden (filtered out or not isolated)
const VS = `attribute vec2 p; attribute float c; attribute float s; uniform vec4 b; uniform float size; varying float vc; varying float vs;
void main() { gl_Position = vec4((p.x - b.x) / (b.y - b.x) * 2.0 - 1.0, (p.y - b.z) / (b.w - b.z) * 2.0 - 1.0, 0.0, 1.0);
  if (s > 1.5) gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
  gl_PointSize = size; vc = c; vs = s; }`;
const FS = `precision mediump float; uniform vec3 pal[11]; uniform float anySel; varying float vc; varying float vs;
void main() { vec2 d = gl_PointCoord - 0.5; if (dot(d, d) > 0.25 || vs > 1.5) discard;
  vec3 col = pal[0]; for (int i = 0; i < 11; i++) if (abs(float(i) - vc) < 0.5) col = pal[i];
  float a = anySel > 0.5 && vs < 0.5 ? 0.12 : 0.8; gl_FragColor = vec4(col * a, a); }`;

function hex(h) { return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255); }

function setup(root) {
  const base = h("canvas", { attrs: { "aria-label": "latent map" }, data: { role: "latent-map", points: "0" } });
  const overlay = h("canvas", { className: "overlay" });
  const tip = h("div", { className: "tip" }), legend = h("div", { className: "legend" });
  const reset = h("button", { type: "button", textContent: "Reset view" });
  const iso = h("button", { type: "button", className: "iso", textContent: "Isolate", disabled: true });
  const wrap = h("div", { className: "sm" }, base, overlay, tip, h("div", { className: "bar" }, legend, iso, reset));
  mount(root, STYLE, wrap);
  const m = { wrap, base, overlay, tip, legend, reset, iso, octx: overlay.getContext("2d"), sel: new Set(), lasso: null, view: null,
    isolated: null, thumbs: new Map(), asked: new Set(), thumbSig: null, focus: null };
  m.gl = base.getContext("webgl", { antialias: true, premultipliedAlpha: true });
  if (m.gl && !initGL(m)) {
    // Shaders that do not compile or link (an old or blocklisted GPU driver) would leave a blank map. A canvas
    // that has given out a WebGL context never gives a 2-D one, so the fallback draws on a fresh canvas.
    const fresh = h("canvas", { attrs: { "aria-label": "latent map" }, data: { role: "latent-map", points: "0" } });
    base.replaceWith(fresh);
    m.base = fresh;
    m.gl = null;
  }
  if (!m.gl) m.ctx2d = m.base.getContext("2d");
  m.base.dataset.renderer = m.gl ? "webgl" : "2d";
  events(m);
  new ResizeObserver(() => layout(m)).observe(wrap);
  return m;
}

// True when the shaders compiled and linked (the console says why not).
function initGL(m) {
  const gl = m.gl, prog = gl.createProgram();
  for (const [type, src] of [[gl.VERTEX_SHADER, VS], [gl.FRAGMENT_SHADER, FS]]) {
    const sh = gl.createShader(type);
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) {
      console.warn("latent map: shader did not compile, drawing in 2-D:", gl.getShaderInfoLog(sh));
      return false;
    }
    gl.attachShader(prog, sh);
  }
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) {
    console.warn("latent map: shaders did not link, drawing in 2-D:", gl.getProgramInfoLog(prog));
    return false;
  }
  m.prog = prog;
  m.buf = { p: gl.createBuffer(), c: gl.createBuffer(), s: gl.createBuffer() };
  return true;
}

function layout(m) {
  const w = m.wrap.clientWidth || 600, h = m.d ? m.d.height : 600, r = window.devicePixelRatio || 1;
  m.wrap.style.height = h + "px";
  for (const c of [m.base, m.overlay]) {
    c.width = Math.round(w * r);
    c.height = Math.round(h * r);
    c.style.width = w + "px";
    c.style.height = h + "px";
  }
  m.w = w; m.h = h; m.r = r;
  draw(m);
}

function fullView(d) {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < d.x.length; i++) {
    x0 = Math.min(x0, d.x[i]); x1 = Math.max(x1, d.x[i]); y0 = Math.min(y0, d.y[i]); y1 = Math.max(y1, d.y[i]);
  }
  const px = 0.04 * (x1 - x0 || 1), py = 0.04 * (y1 - y0 || 1);
  return [x0 - px, x1 + px, y0 - py, y1 + py];
}

// data -> CSS pixels of the canvas (y up), and back
const toPx = (m, x, y) => [((x - m.view[0]) / (m.view[1] - m.view[0])) * m.w, (1 - (y - m.view[2]) / (m.view[3] - m.view[2])) * m.h];
const toData = (m, px, py) => [m.view[0] + (px / m.w) * (m.view[1] - m.view[0]), m.view[2] + (1 - py / m.h) * (m.view[3] - m.view[2])];

function upload(m) {
  const d = m.d, P = m.P, n = P.x.length, p = new Float32Array(2 * n), c = new Float32Array(n);
  for (let i = 0; i < n; i++) { p[2 * i] = P.x[i]; p[2 * i + 1] = P.y[i]; c[i] = d.colour ? P.labels[i] + 1 : 0; }
  m.n = n;
  if (m.gl) {
    const gl = m.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, m.buf.p); gl.bufferData(gl.ARRAY_BUFFER, p, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, m.buf.c); gl.bufferData(gl.ARRAY_BUFFER, c, gl.STATIC_DRAW);
  }
  uploadSel(m);
}

// Whether point i is shown: its label among the visible ones and, while isolated, in the isolated set.
function shown(m, i) {
  return (!m.visible || m.visible.has(m.P.labels[i])) && (!m.isolated || m.isolated.has(m.P.ids[i]));
}

function uploadSel(m) {
  m.iso.disabled = !m.isolated && !m.sel.size;
  m.iso.textContent = m.isolated ? tx(m.d, "show_all", "Show all") : tx(m.d, "isolate", "Isolate");
  let k = 0;
  for (let i = 0; i < m.n; i++) k += shown(m, i) ? 1 : 0;
  m.base.dataset.shown = String(k);
  if (!m.gl) return;
  const s = new Float32Array(m.n), gl = m.gl;
  for (let i = 0; i < m.n; i++) s[i] = !shown(m, i) ? 2 : m.sel.has(m.P.ids[i]) ? 1 : 0;
  gl.bindBuffer(gl.ARRAY_BUFFER, m.buf.s); gl.bufferData(gl.ARRAY_BUFFER, s, gl.DYNAMIC_DRAW);
}

function draw(m) {
  if (!m.d || !m.P || !m.view) return;
  const d = m.d, pal = [hex("#4c78a8"), ...d.colours.map(hex)], bg = m.theme ? m.theme.bg : "#ffffff";
  m.base.dataset.bg = bg;
  if (m.gl) {
    const gl = m.gl, [r, g, b] = rgba(bg);
    gl.viewport(0, 0, m.base.width, m.base.height);
    gl.clearColor(r / 255, g / 255, b / 255, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.useProgram(m.prog);
    for (const [name, buf, k] of [["p", m.buf.p, 2], ["c", m.buf.c, 1], ["s", m.buf.s, 1]]) {
      const loc = gl.getAttribLocation(m.prog, name);
      gl.bindBuffer(gl.ARRAY_BUFFER, buf);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, k, gl.FLOAT, false, 0, 0);
    }
    gl.uniform4f(gl.getUniformLocation(m.prog, "b"), ...m.view);
    gl.uniform1f(gl.getUniformLocation(m.prog, "size"), 4.5 * m.r);
    gl.uniform1f(gl.getUniformLocation(m.prog, "anySel"), m.sel.size ? 1 : 0);
    gl.uniform3fv(gl.getUniformLocation(m.prog, "pal"), pal.flat());
    gl.drawArrays(gl.POINTS, 0, m.n);
  } else {
    const ctx = m.ctx2d;
    ctx.setTransform(m.r, 0, 0, m.r, 0, 0);
    ctx.fillStyle = bg;
    ctx.fillRect(0, 0, m.w, m.h);
    const P = m.P;
    for (let i = 0; i < m.n; i++) {
      if (!shown(m, i)) continue;
      const [px, py] = toPx(m, P.x[i], P.y[i]), rgb = pal[d.colour ? P.labels[i] + 1 : 0];
      ctx.globalAlpha = m.sel.size && !m.sel.has(P.ids[i]) ? 0.12 : 0.8;
      ctx.fillStyle = `rgb(${rgb.map((v) => Math.round(255 * v)).join(",")})`;
      ctx.fillRect(px - 2, py - 2, 4, 4);
    }
    ctx.globalAlpha = 1;
  }
  drawOverlay(m);
  askThumbs(m);
  m.base.dataset.points = String(m.n);
  m.base.dataset.draws = String(Number(m.base.dataset.draws || 0) + 1);
}

function drawOverlay(m) {
  const ctx = m.octx, th = m.theme || { text: "#111", primary: "#ff4b4b", font: "sans-serif" };
  ctx.setTransform(m.r, 0, 0, m.r, 0, 0);
  ctx.clearRect(0, 0, m.w, m.h);
  drawThumbs(m, ctx, th);
  if (m.focus !== null) {  // the digit found by its index: a ring
    const i = m.P.ids.indexOf(m.focus);
    if (i >= 0 && shown(m, i)) {
      const [cx, cy] = toPx(m, m.P.x[i], m.P.y[i]);
      ctx.beginPath(); ctx.arc(cx, cy, m.inThumbs ? THUMB_PX * 0.9 : 11, 0, 2 * Math.PI);
      ctx.strokeStyle = th.primary; ctx.lineWidth = 3; ctx.stroke();
    }
  }
  if (m.d.mark) {  // the user's digit: a star
    const [cx, cy] = toPx(m, ...m.d.mark);
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const r = k % 2 ? 6 : 14, a = -Math.PI / 2 + (k * Math.PI) / 5;
      ctx.lineTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
    }
    ctx.closePath();
    ctx.fillStyle = "#ffd60a"; ctx.strokeStyle = th.text; ctx.lineWidth = 2;
    ctx.fill(); ctx.stroke();
    ctx.fillStyle = th.text; ctx.font = `600 13px ${th.font}`; ctx.textAlign = "center";
    ctx.fillText(tx(m.d, "mark", "your digit"), cx, cy - 18);
  }
  if (m.lasso && m.lasso.length > 1) {
    ctx.beginPath();
    m.lasso.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    const [r, g, b] = rgba(th.primary);
    ctx.fillStyle = `rgba(${r}, ${g}, ${b}, ${th.dark ? 0.16 : 0.08})`; ctx.strokeStyle = th.primary; ctx.lineWidth = 1.5;
    ctx.fill(); ctx.stroke();
  }
}

// The points in view that are shown (indices into the points).
function inView(m) {
  const out = [], [x0, x1, y0, y1] = m.view, P = m.P;
  for (let i = 0; i < m.n; i++) if (P.x[i] >= x0 && P.x[i] <= x1 && P.y[i] >= y0 && P.y[i] <= y1 && shown(m, i)) out.push(i);
  return out;
}

// Zoomed in to at most THUMB_MAX points: each drawn as its digit (where its thumbnail has come), framed in its colour.
function drawThumbs(m, ctx, th) {
  const view = inView(m);
  m.inThumbs = view.length <= THUMB_MAX;
  m.base.dataset.thumbs = "0";
  if (!m.inThumbs) return;
  const pal = m.d.colours, s = THUMB_PX;
  let k = 0;
  view.sort((a, b) => (m.sel.has(m.P.ids[a]) ? 1 : 0) - (m.sel.has(m.P.ids[b]) ? 1 : 0));  // the selected on top
  for (const i of view) {
    const t = m.thumbs.get(m.P.ids[i]);
    if (!t) continue;
    const [cx, cy] = toPx(m, m.P.x[i], m.P.y[i]), sel = m.sel.has(m.P.ids[i]);
    ctx.globalAlpha = m.sel.size && !sel ? 0.5 : 1;
    ctx.fillStyle = sel ? th.primary : m.d.colour ? pal[m.P.labels[i]] : th.text;
    ctx.fillRect(cx - s / 2 - 2, cy - s / 2 - 2, s + 4, s + 4);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(t.img, t.sx, t.sy, 28, 28, cx - s / 2, cy - s / 2, s, s);
    k++;
  }
  ctx.globalAlpha = 1;
  m.base.dataset.thumbs = String(k);
}

// Ask the server for the thumbnails of the points in view that have none yet (at most once per id).
function askThumbs(m) {
  clearTimeout(m.askTimer);
  m.askTimer = setTimeout(() => {
    if (!m.inThumbs || !m.setStateValue) return;
    const want = inView(m).map((i) => m.P.ids[i]).filter((id) => !m.thumbs.has(id) && !m.asked.has(id));
    if (!want.length) return;
    for (const id of want) m.asked.add(id);
    m.setStateValue("want", { ids: want.sort((a, b) => a - b) });
  }, 150);
}

// A sheet of thumbnails from the server: cut up by position, kept for the session's life of this map.
function takeThumbs(m, t) {
  if (!t || t.sheet === m.thumbSig) return;
  m.thumbSig = t.sheet;
  const img = new Image();
  img.onload = () => {
    t.ids.forEach((id, k) => m.thumbs.set(id, { img, sx: (k % t.cols) * 28, sy: Math.floor(k / t.cols) * 28 }));
    drawOverlay(m);
  };
  img.src = t.sheet;
}

function nearest(m, px, py, radius = 8) {
  let best = -1, bd = radius * radius;
  for (let i = 0; i < m.n; i++) {
    if (!shown(m, i)) continue;
    const [x, y] = toPx(m, m.P.x[i], m.P.y[i]), dd = (x - px) ** 2 + (y - py) ** 2;
    if (dd < bd) { bd = dd; best = i; }
  }
  return best;
}

function inside(poly, x, y) {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

function select(m, ids) {
  m.sel = new Set(ids);
  uploadSel(m);
  draw(m);
  m.setStateValue("selection", { ids });
}

function events(m) {
  const o = m.overlay, pos = (e) => { const r = o.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  o.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    o.setPointerCapture(e.pointerId);
    m.lasso = [pos(e)];
    m.tip.style.display = "none";
  });
  o.addEventListener("pointermove", (e) => {
    const [x, y] = pos(e);
    if (m.lasso) { m.lasso.push([x, y]); drawOverlay(m); return; }
    const i = nearest(m, x, y, m.inThumbs ? THUMB_PX / 2 + 2 : 8);
    if (i < 0) { m.tip.style.display = "none"; return; }
    m.tip.textContent = tx(m.d, "tip", "digit {d} · test #{id}", { d: m.P.labels[i], id: m.P.ids[i] });
    Object.assign(m.tip.style, { display: "block", left: x + 12 + "px", top: y + 12 + "px" });
  });
  o.addEventListener("pointerup", () => {
    const path = m.lasso;
    m.lasso = null;
    drawOverlay(m);
    if (!path) return;
    const span = Math.max(...path.map((p) => Math.hypot(p[0] - path[0][0], p[1] - path[0][1])));
    if (span < 4) {  // a click: the nearest point, if any
      const i = nearest(m, ...path[0], m.inThumbs ? THUMB_PX / 2 + 2 : 8);
      if (i >= 0) select(m, [m.P.ids[i]]);
      return;
    }
    const ids = [];
    for (let i = 0; i < m.n; i++) {
      if (!shown(m, i)) continue;
      const [x, y] = toPx(m, m.P.x[i], m.P.y[i]);
      if (inside(path, x, y)) ids.push(m.P.ids[i]);
    }
    select(m, ids);
  });
  o.addEventListener("dblclick", () => select(m, []));
  o.addEventListener("pointerleave", () => (m.tip.style.display = "none"));
  o.addEventListener("wheel", (e) => {
    e.preventDefault();
    const [px, py] = pos(e), [cx, cy] = toData(m, px, py), f = Math.exp(e.deltaY * 0.0015), v = m.view;
    m.view = [cx + (v[0] - cx) * f, cx + (v[1] - cx) * f, cy + (v[2] - cy) * f, cy + (v[3] - cy) * f];
    m.zoomed = true;
    draw(m);
  }, { passive: false });
  m.reset.addEventListener("click", () => { m.view = fullView(m.P); m.zoomed = false; draw(m); });
  m.iso.addEventListener("click", () => {  // isolate: the view fitted to the selection; show all: the whole map
    m.isolated = m.isolated ? null : new Set(m.sel);
    const P = m.P, keep = (i) => !m.isolated || m.isolated.has(P.ids[i]), idx = [...P.x.keys()].filter(keep);
    m.view = fullView({ x: idx.map((i) => P.x[i]), y: idx.map((i) => P.y[i]) });
    m.zoomed = !!m.isolated;
    uploadSel(m);
    draw(m);
  });
}

// The view around one point: a square about a twelfth of the map's width, so its neighbours show as digits.
function around(m, i) {
  const f = fullView(m.P), hx = (f[1] - f[0]) / 24, hy = (f[3] - f[2]) / 24, x = m.P.x[i], y = m.P.y[i];
  return [x - hx, x + hx, y - hy, y + hy];
}

function render(m, d, P) {
  const sig = d.points + ":" + d.colour, fresh = m.sig !== sig, newPoints = m.P !== P;
  m.d = d;
  m.P = P;
  if (newPoints) {  // another map (or a new layout of a live run): thumbnails stay, the view follows the points
    if (!m.keepView || !m.zoomed || !m.view) m.view = fullView(P);  // a live layout: refitted until the reader zooms
    m.isolated = null;
  }
  m.visible = d.visible ? new Set(d.visible) : null;
  if (d.focus !== m.focus) {  // a digit found by its index: selected and zoomed to
    m.focus = d.focus;
    const i = d.focus === null ? -1 : P.ids.indexOf(d.focus);
    if (i >= 0) { m.sel = new Set([d.focus]); m.isolated = null; m.view = around(m, i); }
  }
  if (fresh) { m.sig = sig; upload(m); } else uploadSel(m);
  takeThumbs(m, d.thumbs);
  m.legend.replaceChildren(...(d.colour ? d.colours.map((c, k) => h("span", { textContent: String(k), style: { "--c": c } })) : []));
  layout(m);
}

export default function (component) {
  const { data: d, parentElement: root, setStateValue } = component;
  const m = (root.__sm ??= setup(root));
  m.setStateValue = setStateValue;
  m.keepView = !!d.live;  // a live run redraws its layout as it iterates: keep the reader's zoom, once zoomed
  followTheme(m, m.wrap, () => draw(m));  // a new theme: repaint with its colours
  m.base.setAttribute("aria-label", tx(d, "aria", "latent map"));
  m.reset.textContent = tx(d, "reset", "Reset view");
  m.want = d.points;
  whenPoints(d.points).then((P) => { if (m.want === d.points) render(m, d, P); });
}
