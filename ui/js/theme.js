// The page's theme inside a component. Streamlit (components v2) puts the active theme on a wrapper above each
// component as CSS custom properties (--st-background-color, --st-secondary-background-color, --st-text-color,
// --st-border-color, --st-primary-color, --st-font, ...); they inherit into the component's shadow root, so CSS
// written with var(--st-...) follows a theme change by itself. What a component paints on a <canvas> reads the
// colours here (themeColours) and repaints when they change (followTheme). Streamlit calls the component's
// function again when the theme changes; a probe with a 1 ms colour transition catches a change without that call.
const THEME_PROBE = "position:absolute;left:0;top:0;width:0;height:0;overflow:hidden;pointer-events:none;" +
  "color:var(--st-text-color);background-color:var(--st-background-color);transition:color 1ms,background-color 1ms";

// Any CSS colour as [r, g, b, a] (0-255, alpha 0-1): painted on a 1x1 canvas and read back.
function rgba(css) {
  const ctx = (rgba.ctx ??= h("canvas", { width: 1, height: 1 }).getContext("2d", { willReadFrequently: true }));
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = "#000";
  ctx.fillStyle = css;
  ctx.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
  return [r, g, b, a / 255];
}

// The theme's colours as CSS strings (Streamlit's light theme where a property is missing), and whether it is dark.
function themeColours(el) {
  const cs = getComputedStyle(el), v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
  const t = { bg: v("--st-background-color", "#ffffff"), bg2: v("--st-secondary-background-color", "#f0f2f6"),
              text: v("--st-text-color", "#31333f"), border: v("--st-border-color", "rgba(49, 51, 63, 0.2)"),
              primary: v("--st-primary-color", "#ff4b4b"), font: v("--st-font", "sans-serif") };
  const [r, g, b] = rgba(t.bg);
  t.dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
  t.key = [t.bg, t.bg2, t.text, t.border, t.primary, t.font].join("|");
  return t;
}

// Keep `state.theme` the theme of element `el` (inside the component), `el.dataset.theme` "light" or "dark" (and
// its color-scheme), and call `onChange(theme)` when it changes after the first call. Call it on every render.
function followTheme(state, el, onChange) {
  state.onTheme = onChange;
  const check = () => {
    const t = themeColours(el), old = state.theme;
    if (old && old.key === t.key) return;
    state.theme = t;
    el.dataset.theme = t.dark ? "dark" : "light";
    el.style.colorScheme = t.dark ? "dark" : "light";  // native controls (a range input's track) to match
    if (old && state.onTheme) state.onTheme(t);
  };
  if (!state.themeProbe || !el.contains(state.themeProbe)) {
    state.themeProbe = h("i", { attrs: { "aria-hidden": "true", style: THEME_PROBE } });
    state.themeProbe.addEventListener("transitionend", check);
    el.append(state.themeProbe);
  }
  check();
  return state.theme;
}
