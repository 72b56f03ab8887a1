// Latent Lab: a tiny interpreter for the networks exported by rep_models/webexport.py (one sample at a time).
// It mirrors rep_models.webexport.run op for op; tests/test_browser_live.py checks the two agree.
const LL = (globalThis.__latentLab ??= { nets: new Map(), waiters: new Map(), state: new Map() });

function halfToFloat(u16) {
  const out = new Float32Array(u16.length);
  for (let i = 0; i < u16.length; i++) {
    const h = u16[i], s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
    out[i] = e === 0 ? s * f * 5.960464477539063e-8 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return out;
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new Error("network blob: expected bytes");
}

// LLW1 | uint32 header length | JSON header | float16 weights (see rep_models.webexport.pack)
function parseNet(data) {
  const bytes = asBytes(data);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== "LLW1") throw new Error("network blob: bad magic");
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const raw = bytes.slice(8 + n, 8 + n + 2 * head.n_weights); // a copy: aligned for Uint16Array
  head.w = halfToFloat(new Uint16Array(raw.buffer));
  return head;
}

function registerNet(net) {
  LL.nets.set(net.name, net);
  for (const resolve of LL.waiters.get(net.name) ?? []) resolve(net);
  LL.waiters.delete(net.name);
}

function whenNet(name) {
  if (LL.nets.has(name)) return Promise.resolve(LL.nets.get(name));
  return new Promise((resolve) => {
    if (!LL.waiters.has(name)) LL.waiters.set(name, []);
    LL.waiters.get(name).push(resolve);
  });
}

function runNet(net, input) {
  const W = net.w;
  let x = Float32Array.from(input);
  for (const o of net.ops) {
    switch (o.op) {
      case "linear": {
        const y = new Float32Array(o.n_out);
        for (let r = 0; r < o.n_out; r++) {
          let acc = o.b === null ? 0 : W[o.b + r];
          const base = o.w + r * o.n_in;
          for (let i = 0; i < o.n_in; i++) acc += W[base + i] * x[i];
          y[r] = acc;
        }
        x = y;
        break;
      }
      case "conv": {
        const { cin, cout, h, w, k, stride: s, pad: p } = o;
        const ho = Math.floor((h + 2 * p - k) / s) + 1, wo = Math.floor((w + 2 * p - k) / s) + 1;
        const y = new Float32Array(cout * ho * wo);
        for (let co = 0; co < cout; co++) {
          const yb = co * ho * wo;
          if (o.bias !== null) y.fill(W[o.bias + co], yb, yb + ho * wo);
          for (let ci = 0; ci < cin; ci++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const wv = W[o.weight + ((co * cin + ci) * k + ky) * k + kx];
                for (let oy = 0; oy < ho; oy++) {
                  const iy = oy * s - p + ky;
                  if (iy < 0 || iy >= h) continue;
                  const xr = (ci * h + iy) * w, yr = yb + oy * wo;
                  for (let ox = 0; ox < wo; ox++) {
                    const ix = ox * s - p + kx;
                    if (ix >= 0 && ix < w) y[yr + ox] += wv * x[xr + ix];
                  }
                }
              }
        }
        x = y;
        break;
      }
      case "convT": {
        const { cin, cout, h, w, k, stride: s, pad: p } = o;
        const ho = (h - 1) * s - 2 * p + k, wo = (w - 1) * s - 2 * p + k;
        const y = new Float32Array(cout * ho * wo);
        if (o.bias !== null) for (let co = 0; co < cout; co++) y.fill(W[o.bias + co], co * ho * wo, (co + 1) * ho * wo);
        for (let ci = 0; ci < cin; ci++)
          for (let co = 0; co < cout; co++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const wv = W[o.weight + ((ci * cout + co) * k + ky) * k + kx];
                for (let iy = 0; iy < h; iy++) {
                  const oy = iy * s - p + ky;
                  if (oy < 0 || oy >= ho) continue;
                  const xr = (ci * h + iy) * w, yr = (co * ho + oy) * wo;
                  for (let ix = 0; ix < w; ix++) {
                    const ox = ix * s - p + kx;
                    if (ox >= 0 && ox < wo) y[yr + ox] += wv * x[xr + ix];
                  }
                }
              }
        x = y;
        break;
      }
      case "affine": {
        const per = x.length / o.c;
        for (let c = 0; c < o.c; c++) {
          const a = W[o.scale + c], b = W[o.shift + c];
          for (let i = c * per; i < (c + 1) * per; i++) x[i] = x[i] * a + b;
        }
        break;
      }
      case "relu": for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0; break;
      case "lrelu": for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] *= o.slope; break;
      case "tanh": for (let i = 0; i < x.length; i++) x[i] = Math.tanh(x[i]); break;
      case "sigmoid": for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i])); break;
      case "scale": for (let i = 0; i < x.length; i++) x[i] = x[i] * o.a + o.b; break;
      case "reshape": break; // row-major: the data does not move
      case "maxpool": {
        const { k, c: C, h, w } = o, ho = Math.floor(h / k), wo = Math.floor(w / k);
        const y = new Float32Array(C * ho * wo);
        for (let ch = 0; ch < C; ch++)
          for (let oy = 0; oy < ho; oy++)
            for (let ox = 0; ox < wo; ox++) {
              let m = -Infinity;
              for (let dy = 0; dy < k; dy++)
                for (let dx = 0; dx < k; dx++) m = Math.max(m, x[(ch * h + oy * k + dy) * w + ox * k + dx]);
              y[(ch * ho + oy) * wo + ox] = m;
            }
        x = y;
        break;
      }
      case "softmax": {
        const m = Math.max(...x);
        let sum = 0;
        for (let i = 0; i < x.length; i++) sum += (x[i] = Math.exp(x[i] - m));
        for (let i = 0; i < x.length; i++) x[i] /= sum;
        break;
      }
      default: throw new Error("unknown op " + o.op);
    }
  }
  return x;
}

LL.runNet = runNet;
LL.whenNet = whenNet;
