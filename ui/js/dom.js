// Latent Lab's in-page components build their DOM with these two helpers (prepended to each component's module).
// h(tag, props, ...children): an element; props go onto it (className, textContent, type, ...), except
// `attrs` (HTML attributes, e.g. aria-label), `data` (dataset) and `style` (inline CSS properties).
function h(tag, props = {}, ...children) {
  const { attrs = {}, data = {}, style = {}, ...rest } = props;
  const el = Object.assign(document.createElement(tag), rest);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  Object.assign(el.dataset, data);
  for (const [k, v] of Object.entries(style)) k.startsWith("--") ? el.style.setProperty(k, v) : (el.style[k] = v);
  el.append(...children);
  return el;
}

// Empty the component's root (a shadow root) and put in its stylesheet and content.
function mount(root, css, ...children) {
  root.innerHTML = "";
  root.append(h("style", { textContent: css }), ...children);
}

// The component's words in the page's language: d.text[key] from Python (ui/live.py), with {name} fields filled
// from `values`; `fallback` (English) when Python sent none.
function tx(d, key, fallback, values = {}) {
  const s = (d && d.text && d.text[key]) || fallback;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : `{${k}}`));
}
