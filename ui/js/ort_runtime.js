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

// LLO1 | uint32 header length | JSON header {id, base, kind, inputs, output, latent_dim, conditional, style} | the ONNX file
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
  performance.mark("ll:net " + net.kind);
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

// y = Identity(x), one float: the smallest ONNX graph (made with onnx.helper, opset 13).
const WARM_UP = "CAgSADo3ChAKAXgSAXkiCElkZW50aXR5EgF3Wg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ==";

// The runtime, started once per page from `base` (the URL folder of static/ort/). Rejects, with the reason, where it
// cannot start (no WebAssembly, the files blocked): the components then say so and ask the server instead.
function startRuntime(base) {
  if (!LL.ort) {
    LL.ort = (async () => {
      if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
      base = new URL(base, location.href).href;  // a component's module has no URL of its own to resolve against
      performance.mark("ll:runtime start");
      const ort = await import(base + "ort.wasm.min.mjs");
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = base;
      // The WebAssembly is fetched and compiled by the first session made, not by the import: make one at once, on a
      // one-op graph, so it compiles while the page's own networks are still on their way from the server.
      await ort.InferenceSession.create(Uint8Array.from(atob(WARM_UP), (c) => c.charCodeAt(0)));
      performance.mark("ll:runtime ready");
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
      performance.mark("ll:session " + net.kind);
      const s = await ort.InferenceSession.create(net.onnx, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
      performance.mark("ll:session made " + net.kind);
      return { ort, net, s, queue: Promise.resolve() };
    })();
    made.catch(() => LL.sessions.delete(id));
    LL.sessions.set(id, made);
  }
  return LL.sessions.get(id);
}

// A network's inputs, each made by tensor(type, data, dims): an ort.Tensor here, a plain object for the helper.
// A style-based generator also takes `opts` {psi: truncation in W (1: none), noise: its fixed noise maps' gain (1 on, 0 off)}.
function feedsFor(tensor, net, z, batch, y, opts) {
  const feeds = {};
  if (net.kind === "classifier") feeds.x = tensor("float32", z, [batch, 28, 28]);
  else {
    feeds.z = tensor("float32", z, [batch, net.latent_dim]);
    if (net.conditional) feeds.y = tensor("int64", BigInt64Array.from(y ?? Array.from({ length: batch }, (_, i) => i % 10), BigInt), [batch]);
    if (net.style) {
      feeds.psi = tensor("float32", Float32Array.of(opts?.psi ?? 1), [1]);
      feeds.noise = tensor("float32", Float32Array.of(opts?.noise ?? 1), [1]);
    }
  }
  return feeds;
}

async function runHere(S, z, batch, y, opts) {
  const feeds = feedsFor((type, data, dims) => new S.ort.Tensor(type, data, dims), S.net, z, batch, y, opts);
  const job = S.queue.then(() => S.s.run(feeds));
  S.queue = job.catch(() => {});
  return (await job)[S.net.output].data;
}

// Run network `id` on codes z (B*d floats) [and digits y (B ints)] [and a style generator's opts]: images (B*784 floats
// in [0, 1]) for a decoder,
// probabilities (B*10) for the classifier (then z holds B*784 pixels). A batch of at least SPLIT_MIN of a slow network
// (SPLIT_MS) is split with the helper (below) where it has the network: half here, half on the other core, at once.
async function runNet(base, id, z, batch, y = null, opts = null) {
  const S = await session(base, id);
  const big = batch >= SPLIT_MIN && (S.wholeMs ?? 0) >= SPLIT_MS;  // worth a second core: whole runs are slow here
  const H = big ? helperFor(base, S.net) : null;
  if (!H) {
    const t0 = performance.now();
    const out = await runHere(S, z, batch, y, opts);
    if (batch >= SPLIT_MIN) {
      S.wholeMs = Math.min(S.wholeMs ?? Infinity, performance.now() - t0);  // the fastest: a first run is slow anyway
      if (S.wholeMs >= SPLIT_MS) helperFor(base, S.net, true);  // after a slow big run: the helper gets its copy now
    }
    return out;
  }
  const a = Math.ceil(batch / 2), per = z.length / batch, perOut = S.net.kind === "classifier" ? 10 : 784;
  const there = helperRun(H, S.net, z.slice(a * per), batch - a, y && y.slice(a), opts);
  const here = await runHere(S, z.subarray(0, a * per), a, y && y.slice(0, a), opts);
  let rest;
  try { rest = await there; } catch { rest = await runHere(S, z.subarray(a * per), batch - a, y && y.slice(a), opts); }
  const out = new Float32Array(batch * perOut);
  out.set(here, 0);
  out.set(rest, a * perOut);
  LL.splits = (LL.splits ?? 0) + 1;  // counted for the tests and the benchmark
  return out;
}

// ---- the helper: a Web Worker with its own runtime and sessions, so a big batch uses a second core (the page's
// runtime has one thread: no cross-origin isolation, no shared memory). Made only where the machine has two cores or
// more, and only after a first big batch ran here, so it never delays a page's first picture; any failure and the
// page runs everything here again.
const SPLIT_MIN = 32;
// ... and only for a network whose whole batch took this long here: the DCGAN's 64 samples take 40-80 ms on this
// 2-core machine, the MLP GAN's 6-10 ms, where the helper's messages would cost more than they save (measured in
// bench/browser.py: the MLP GAN's grid went from 13.6 to 41 ms p95 when split).
const SPLIT_MS = 20;
const HELPER_SRC = `let ort = null; const sessions = new Map();
onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === "net") {
      if (!ort) {
        ort = await import(m.base + "ort.wasm.min.mjs");
        ort.env.wasm.numThreads = 1; ort.env.wasm.proxy = false; ort.env.wasm.wasmPaths = m.base;
      }
      sessions.set(m.id, await ort.InferenceSession.create(m.onnx, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
      postMessage({ type: "ready", id: m.id });
    } else {
      const feeds = {};
      for (const [k, v] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(v.type, v.data, v.dims);
      const data = (await sessions.get(m.id).run(feeds))[m.output].data;
      postMessage({ type: "done", job: m.job, data });
    }
  } catch (err) { postMessage({ type: "error", id: m.id, job: m.job, reason: String((err && err.message) || err) }); }
};`;

function helper(base) {
  if (LL.helper === undefined) {
    LL.helper = null;
    if ((navigator.hardwareConcurrency || 1) < 2 || typeof Worker !== "function") return null;
    try {
      const url = URL.createObjectURL(new Blob([HELPER_SRC], { type: "text/javascript" }));
      const H = { w: new Worker(url, { type: "module" }), nets: new Map(), jobs: new Map(), next: 0, base: new URL(base, location.href).href };
      const broken = (reason) => {
        LL.helper = null;
        for (const { reject } of H.jobs.values()) reject(new Error(reason));
        H.w.terminate();
      };
      H.w.onerror = (e) => broken(String(e.message || "the helper stopped"));
      H.w.onmessage = (e) => {
        const m = e.data;
        if (m.type === "ready") H.nets.set(m.id, true);
        else if (m.type === "done") { H.jobs.get(m.job)?.resolve(m.data); H.jobs.delete(m.job); }
        else if (m.job === undefined) H.nets.set(m.id, false);  // that network cannot run there: run it here
        else { H.jobs.get(m.job)?.reject(new Error(m.reason)); H.jobs.delete(m.job); }
      };
      LL.helper = H;
    } catch { LL.helper = null; }
  }
  return LL.helper;
}

// The helper, where it has network `net` ready; with `send`, it is given the network if it has not been yet.
function helperFor(base, net, send = false) {
  const H = send ? helper(base) : LL.helper;
  if (!H) return null;
  if (send && !H.nets.has(net.id)) {
    H.nets.set(net.id, "pending");
    H.w.postMessage({ type: "net", id: net.id, base: H.base, onnx: net.onnx.slice() });
  }
  return H.nets.get(net.id) === true ? H : null;
}

function helperRun(H, net, z, batch, y, opts) {
  return new Promise((resolve, reject) => {
    const job = H.next++;
    H.jobs.set(job, { resolve, reject });
    const feeds = feedsFor((type, data, dims) => ({ type, data, dims }), net, z, batch, y, opts);
    H.w.postMessage({ type: "run", id: net.id, job, feeds, output: net.output });
  });
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
