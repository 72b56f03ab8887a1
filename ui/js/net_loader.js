// Receives one exported network as bytes (sent once per session, then by reference) and registers it by name.
export default function (component) {
  const { data, parentElement } = component;
  try {
    const net = parseNet(data);
    if (!LL.nets.has(net.name)) registerNet(net);
    parentElement.innerHTML = "";
  } catch (err) {
    parentElement.textContent = "Could not load the network for in-browser decoding: " + err.message;
  }
}
