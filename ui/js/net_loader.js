// Receives one exported network (ONNX, rep_models/onnx_export.py) as bytes, sent once per session and then by
// reference, registers it by id for the components that run it (ort_runtime.js) and makes its session at once.
export default function (component) {
  const { data, parentElement } = component;
  try {
    const net = parseNet(data);
    if (!LL.nets.has(net.id)) {
      registerNet(net);
      session(net.base, net.id).catch(() => {});  // start the runtime and make the session now, while the page renders
    }
    parentElement.innerHTML = "";
  } catch (err) {
    console.error("Latent Lab: an unreadable network", err);  // the components waiting for it fall back to the server
  }
}
