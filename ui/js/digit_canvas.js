// A drawing canvas for one digit: white ink on black, round brush, Undo and Clear.
// The drawing goes to Python the moment a stroke ends (pointerup): no debounce, so the results follow the pen.
// data: {size, brush}; state "drawing": {data: PNG data URL} or {data: null} when empty.
// The drawing itself is white on black in either theme (it is the digit the models read, MNIST's way); the mat
// around it and the buttons take the page's theme from the --st-* properties (theme.js), so they follow a change.
const STYLE = `
.dc { position: relative; display: flex; flex-direction: column; gap: 0.4rem; font-family: var(--st-font, sans-serif); }
.dc .mat { align-self: flex-start; max-width: 100%; box-sizing: border-box; padding: 0.375rem; line-height: 0;
  border-radius: 0.75rem; background: var(--st-secondary-background-color, #f0f2f6);
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); }
.dc canvas { display: block; background: #000; border-radius: 0.5rem; touch-action: none; cursor: crosshair;
  max-width: 100%; height: auto; aspect-ratio: 1 / 1; }
.dc .bar { display: flex; gap: 0.5rem; }
.dc button { padding: 0.3rem 0.8rem; border-radius: 0.5rem; cursor: pointer; font: inherit; font-size: 0.875rem;
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); background: var(--st-background-color, transparent);
  color: var(--st-text-color, inherit); }
.dc button:disabled { opacity: 0.4; cursor: default; }`;

function setup(root) {
  const canvas = h("canvas", { attrs: { "aria-label": "drawing canvas" }, data: { role: "drawing-canvas", strokes: "0" } });
  const undo = h("button", { type: "button", textContent: "↶ Undo" });
  const clear = h("button", { type: "button", textContent: "Clear" });
  const wrap = h("div", { className: "dc" }, h("div", { className: "mat" }, canvas), h("div", { className: "bar" }, undo, clear));
  mount(root, STYLE, wrap);
  const c = { wrap, canvas, ctx: canvas.getContext("2d"), undo, clear, strokes: [], current: null, size: 0 };

  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    canvas.setPointerCapture(e.pointerId);
    c.current = { w: c.d.brush, pts: [point(e)] };
    c.strokes.push(c.current);
    paint(c);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!c.current) return;
    for (const ev of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) c.current.pts.push(point(ev));
    paint(c);
  });
  const end = () => {
    if (!c.current) return;
    c.current = null;
    send(c);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  undo.addEventListener("click", () => { c.strokes.pop(); paint(c); send(c); });
  clear.addEventListener("click", () => { c.strokes = []; paint(c); send(c); });
  return c;
}

function paint(c) {
  const { ctx, canvas } = c;
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = ctx.fillStyle = "#fff";
  ctx.lineCap = ctx.lineJoin = "round";
  for (const s of c.strokes) {
    ctx.lineWidth = s.w;
    if (s.pts.length === 1) {
      ctx.beginPath();
      ctx.arc(s.pts[0][0], s.pts[0][1], s.w / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(...s.pts[0]);
    for (let i = 1; i < s.pts.length - 1; i++) {  // through the midpoints: a smooth line
      const [x0, y0] = s.pts[i], [x1, y1] = s.pts[i + 1];
      ctx.quadraticCurveTo(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2);
    }
    ctx.lineTo(...s.pts[s.pts.length - 1]);
    ctx.stroke();
  }
  c.undo.disabled = c.clear.disabled = c.strokes.length === 0;
  canvas.dataset.strokes = String(c.strokes.length);
}

function send(c) {
  c.setStateValue("drawing", { data: c.strokes.length ? c.canvas.toDataURL("image/png") : null });
}

export default function (component) {
  const { data: d, parentElement: root, setStateValue } = component;
  const c = (root.__dc ??= setup(root));
  c.d = d;
  c.setStateValue = setStateValue;
  followTheme(c, c.wrap, null);  // CSS does the restyling; the drawing stays white on black
  c.canvas.setAttribute("aria-label", tx(d, "aria", "drawing canvas"));
  c.undo.textContent = tx(d, "undo", "↶ Undo");
  c.clear.textContent = tx(d, "clear", "Clear");
  if (c.size !== d.size) {
    c.size = c.canvas.width = c.canvas.height = d.size;
    c.canvas.style.width = d.size + "px";
    paint(c);
  }
}
