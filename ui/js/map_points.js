// The latent map's points, in an element of their own (no height): {id, x[], y[], labels[], ids[]}. Registered by id
// in globalThis.__latentLab.points, where the map (scatter_map.js) waits for them. Streamlit sends a large unchanged
// element once and afterwards only its hash, so a change of the map's filter, search or thumbnails does not resend
// the 10,000 points.
const LLP = (globalThis.__latentLab ??= { nets: new Map(), waiters: new Map(), state: new Map() });
LLP.points ??= new Map();
LLP.pointWaiters ??= new Map();

function registerPoints(d) {
  if (LLP.points.has(d.id)) return;
  LLP.points.set(d.id, d);
  if (LLP.points.size > 8) LLP.points.delete(LLP.points.keys().next().value);  // a few maps kept for switching back
  for (const resolve of LLP.pointWaiters.get(d.id) ?? []) resolve(d);
  LLP.pointWaiters.delete(d.id);
}

function whenPoints(id) {
  if (LLP.points.has(id)) return Promise.resolve(LLP.points.get(id));
  return new Promise((resolve) => {
    if (!LLP.pointWaiters.has(id)) LLP.pointWaiters.set(id, []);
    LLP.pointWaiters.get(id).push(resolve);
  });
}
