// Starts the in-page runtime (ort_runtime.js) the moment a page that will run a network begins to draw, so the
// WebAssembly compiles while the server is still working on the rest of the page. data: {base}
export default function (component) {
  const { data: d, parentElement } = component;
  parentElement.innerHTML = "";
  startRuntime(d.base).catch(() => {});  // a failure is reported by the component that needs the runtime
}
