// Latent Lab's one in-page runtime: onnxruntime-web, vendored in static/ort/ (static/ort/README.md: version, licence,
// origin), on one thread (Streamlit sends no cross-origin isolation headers, so no shared memory for threads).
// Networks are the ONNX files of rep_models/onnx_export.py, sent to the page once per session by the net loader
// (ui/live.py: send_net) and turned into one InferenceSession each per page. Every component that runs a network
// includes this file; the state is shared on globalThis, so the runtime starts once and a session is made once.
// Also the page's twin of rep_models.models.base.portable_normal, so a seed gives the same latents here as there.
const LL = (globalThis.__latentLab ??= { nets: new Map(), waiters: new Map(), state: new Map(), sessions: new Map(), ort: null });

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new Error("network: expected bytes");
}

// LLO1 | uint32 header length | JSON header {id, base, kind, inputs, output, latent_dim, conditional} | the ONNX file
function parseNet(data) {
  const bytes = asBytes(data);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== "LLO1") throw new Error("network: bad magic");
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  head.onnx = bytes.slice(8 + n);  // a copy: the message's buffer is not ours to keep
  return head;
}

function registerNet(net) {
  LL.nets.set(net.id, net);
  for (const resolve of LL.waiters.get(net.id) ?? []) resolve(net);
  LL.waiters.delete(net.id);
}

function whenNet(id) {
  if (LL.nets.has(id)) return Promise.resolve(LL.nets.get(id));
  return new Promise((resolve) => {
    if (!LL.waiters.has(id)) LL.waiters.set(id, []);
    LL.waiters.get(id).push(resolve);
  });
}

// The runtime, started once per page from `base` (the URL folder of static/ort/). Rejects, with the reason, where it
// cannot start (no WebAssembly, the files blocked): the components then say so and ask the server instead.
function startRuntime(base) {
  if (!LL.ort) {
    LL.ort = (async () => {
      if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
      base = new URL(base, location.href).href;  // a component's module has no URL of its own to resolve against
      const ort = await import(base + "ort.wasm.min.mjs");
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = base;
      return ort;
    })();
    LL.ort.catch(() => {});
  }
  return LL.ort;
}

// One session per network, runs queued one at a time (a session runs one inference at a time).
function session(base, id) {
  if (!LL.sessions.has(id)) {
    const made = (async () => {
      const ort = await startRuntime(base);
      const net = await whenNet(id);
      const s = await ort.InferenceSession.create(net.onnx, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
      return { ort, net, s, queue: Promise.resolve() };
    })();
    made.catch(() => LL.sessions.delete(id));
    LL.sessions.set(id, made);
  }
  return LL.sessions.get(id);
}

// Run network `id` on codes z (B*d floats) [and digits y (B ints)]: images (B*784 floats in [0, 1]) for a decoder,
// probabilities (B*10) for the classifier (then z holds B*784 pixels).
async function runNet(base, id, z, batch, y = null) {
  const S = await session(base, id);
  const { ort, net, s } = S;
  const feeds = {};
  if (net.kind === "classifier") feeds.x = new ort.Tensor("float32", z, [batch, 28, 28]);
  else {
    feeds.z = new ort.Tensor("float32", z, [batch, net.latent_dim]);
    if (net.conditional) feeds.y = new ort.Tensor("int64", BigInt64Array.from(y ?? Array.from({ length: batch }, (_, i) => i % 10), BigInt), [batch]);
  }
  const job = S.queue.then(() => s.run(feeds));
  S.queue = job.catch(() => {});
  const out = await job;
  return out[net.output].data;
}

// ---- seeded latents: the twin of rep_models.models.base.portable_normal (same numbers for the same seed)
function lowbias32(x) {
  x ^= x >>> 16; x = Math.imul(x, 0x7feb352d); x ^= x >>> 15; x = Math.imul(x, 0x846ca68b); x ^= x >>> 16;
  return x >>> 0;
}

function portableNormal(n, seed, truncation = 0) {
  const key = lowbias32(((seed >>> 0) ^ 0x9e3779b9) >>> 0), key2 = lowbias32(key);
  const unit = (x) => (lowbias32((lowbias32((x ^ key) >>> 0) + key2) >>> 0) + 0.5) / 4294967296;
  const draw = (r, i) => {
    const c = ((r * n + i) * 2) >>> 0;
    return Math.sqrt(-2 * Math.log(unit(c))) * Math.cos(2 * Math.PI * unit((c + 1) >>> 0));
  };
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = draw(0, i);
    if (truncation > 0) {
      for (let r = 1; r < 100 && Math.abs(v) > truncation; r++) v = draw(r, i);
      v = Math.min(truncation, Math.max(-truncation, v));
    }
    z[i] = v;
  }
  return z;
}

// Grey images (B*784 in [0, 1]) onto a canvas as rep_models.images.tile lays them out: `cols` columns (default
// square-ish), 2-pixel grey (0.25) gaps between the 28x28 digits.
function paintGrid(ctx, imgs, batch, cols = 0) {
  cols = cols || Math.ceil(Math.sqrt(batch));
  const rows = Math.ceil(batch / cols), W = cols * 30 - 2, H = rows * 30 - 2;
  const im = ctx.createImageData(W, H), px = im.data;
  for (let o = 0; o < px.length; o += 4) { px[o] = px[o + 1] = px[o + 2] = 64; px[o + 3] = 255; }
  for (let b = 0; b < batch; b++) {
    const ox = (b % cols) * 30, oy = Math.floor(b / cols) * 30;
    for (let i = 0; i < 784; i++) {
      const g = Math.round(255 * Math.min(1, Math.max(0, imgs[b * 784 + i])));
      const o = 4 * ((oy + ((i / 28) | 0)) * W + ox + (i % 28));
      px[o] = px[o + 1] = px[o + 2] = g;
    }
  }
  if (ctx.canvas.width !== W || ctx.canvas.height !== H) { ctx.canvas.width = W; ctx.canvas.height = H; }
  ctx.putImageData(im, 0, 0);
}

LL.runNet = runNet;
LL.whenNet = whenNet;
