// results/draw.html: draw a digit, see what the network saw and what it answers. Plain JavaScript,
// no network: mnistflow.own_digits.images.to_mnist and mnistflow.training.network.forward, step for
// step, on the canvas's pixels (docs/draw.md has the table of steps side by side).
//
// Every step computes what its Python counterpart computes, in the same order, in float64 (JavaScript
// numbers) where NumPy uses float64 and rounded to float32 (Math.fround) where Pillow stores float32,
// so that the 28x28 digit is to_mnist's of the same pixels (tests/test_draw_browser.py compares them).
// The constants (CONST) come from the Python modules, written into the page by draw_page.py.
// Images are {h, w, a}: a a Float64Array of h * w values, row by row.
"use strict";
(function () {
  const CONST = JSON.parse(document.getElementById("mnistflow-constants").textContent);

  // --- arrays and Python's rounding --------------------------------------------------------------
  function image(h, w) { return { h: h, w: w, a: new Float64Array(h * w) }; }
  function map(im, f) { const out = image(im.h, im.w); for (let i = 0; i < im.a.length; i++) out.a[i] = f(im.a[i], i); return out; }
  function max(im) { let m = -Infinity; for (const v of im.a) if (v > m) m = v; return m; }
  function min(im) { let m = Infinity; for (const v of im.a) if (v < m) m = v; return m; }
  function crop(im, r0, r1, c0, c1) {  // im[r0:r1, c0:c1]
    const out = image(r1 - r0, c1 - c0);
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out.a[(r - r0) * out.w + c - c0] = im.a[r * im.w + c];
    return out;
  }
  // Python's round() and NumPy's rint: halves to even (x - floor(x) is exact for doubles)
  function roundEven(x) {
    const f = Math.floor(x), d = x - f;
    return d > 0.5 ? f + 1 : d < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
  }

  // --- Pillow's resampling of a mode "F" image (libImaging/Resample.c) ---------------------------
  // precompute_coeffs: for each output pixel, the first input pixel and the normalised weights
  const FILTERS = { box: [0.5, (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0)],
                    bilinear: [1.0, (x) => { x = Math.abs(x); return x < 1.0 ? 1.0 - x : 0.0; }] };
  function coeffs(inSize, outSize, name) {
    const [support0, filter] = FILTERS[name];
    const scale = inSize / outSize, filterscale = Math.max(scale, 1.0), support = support0 * filterscale;
    const ss = 1.0 / filterscale, out = [];
    for (let xx = 0; xx < outSize; xx++) {
      const center = (xx + 0.5) * scale;
      const xmin = Math.max(0, Math.trunc(center - support + 0.5));
      const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
      const k = []; let ww = 0.0;
      for (let x = 0; x < xmax; x++) { const w = filter((x + xmin - center + 0.5) * ss); k.push(w); ww += w; }
      if (ww !== 0.0) for (let x = 0; x < xmax; x++) k[x] /= ww;
      out.push([xmin, k]);
    }
    return out;
  }
  // Image.fromarray(a.astype(np.float32)).resize((w, h), filter): horizontal pass, then vertical,
  // each summing in double and storing float32; a pass whose size does not change is skipped
  function resize(im, h, w, name) {
    let src = map(im, Math.fround);
    if (w !== src.w) {
      const k = coeffs(src.w, w, name), out = image(src.h, w);
      for (let r = 0; r < src.h; r++) for (let c = 0; c < w; c++) {
        const [x0, ks] = k[c]; let s = 0.0;
        for (let x = 0; x < ks.length; x++) s += src.a[r * src.w + x0 + x] * ks[x];
        out.a[r * w + c] = Math.fround(s);
      }
      src = out;
    }
    if (h !== src.h) {
      const k = coeffs(src.h, h, name), out = image(h, src.w);
      for (let r = 0; r < h; r++) for (let c = 0; c < src.w; c++) {
        const [y0, ks] = k[r]; let s = 0.0;
        for (let y = 0; y < ks.length; y++) s += src.a[(y0 + y) * src.w + c] * ks[y];
        out.a[r * src.w + c] = Math.fround(s);
      }
      src = out;
    }
    return src;
  }

  // --- NumPy's padding, and the filters of _paper.py ---------------------------------------------
  function edgePad(im, m) {  // np.pad(a, m, mode="edge")
    const out = image(im.h + 2 * m, im.w + 2 * m);
    for (let r = 0; r < out.h; r++) {
      const row = Math.min(Math.max(r - m, 0), im.h - 1) * im.w, at = r * out.w;
      for (let c = 0; c < out.w; c++) out.a[at + c] = im.a[row + Math.min(Math.max(c - m, 0), im.w - 1)];
    }
    return out;
  }
  // np.pad(a, m, mode="reflect", reflect_type="odd") on one line of n values (numpy/lib/_arraypad_impl.py
  // _set_reflect_both): in chunks of at most n - 1 values, each reflected about the edge reached so far
  function reflectOdd(line, m) {
    const n = line.length, out = new Float64Array(n + 2 * m);
    out.set(line, m);
    if (n === 1) { out.fill(line[0]); return out; }  // numpy extends a single value as mode "edge"
    let left = m, right = m;
    const period = n - 1;
    while (left > 0 || right > 0) {
      const length = out.length - left - right;  // what is filled so far
      const old = Math.floor((length - 1) / period) * period;
      if (left > 0) {
        const chunk = Math.min(old, left), edge = out[left];
        const values = [];
        for (let i = 1; i <= chunk; i++) values.push(2 * edge - out[left + i]);
        for (let i = 1; i <= chunk; i++) out[left - i] = values[i - 1];
        left -= chunk;
      }
      if (right > 0) {
        const chunk = Math.min(old, right), end = out.length - right - 1, edge = out[end];
        const values = [];
        for (let i = 1; i <= chunk; i++) values.push(2 * edge - out[end - i]);
        for (let i = 1; i <= chunk; i++) out[end + i] = values[i - 1];
        right -= chunk;
      }
    }
    return out;
  }
  function reflectPad(im, m) {  // axis 0 over the original columns, then axis 1 over every row
    const tall = image(im.h + 2 * m, im.w);
    for (let c = 0; c < im.w; c++) {
      const line = new Float64Array(im.h);
      for (let r = 0; r < im.h; r++) line[r] = im.a[r * im.w + c];
      const padded = reflectOdd(line, m);
      for (let r = 0; r < tall.h; r++) tall.a[r * im.w + c] = padded[r];
    }
    const out = image(tall.h, im.w + 2 * m);
    for (let r = 0; r < tall.h; r++) out.a.set(reflectOdd(tall.a.subarray(r * im.w, (r + 1) * im.w), m), r * out.w);
    return out;
  }
  // _paper.box_mean: the mean of the (2 r + 1)^2 square, edges repeated, summed as NumPy sums it
  function boxMean(im, r) {
    const k = 2 * r + 1, p = edgePad(im, r), h = im.h, w = im.w, pw = p.w;
    const rows = new Float64Array(h * pw);
    for (let i = 0; i < h * pw; i++) rows[i] = p.a[i];
    for (let s = 1; s < k; s++) for (let i = 0; i < h * pw; i++) rows[i] += p.a[s * pw + i];
    const out = image(h, w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.a[y * w + x] = rows[y * pw + x];
    for (let s = 1; s < k; s++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.a[y * w + x] += rows[y * pw + x + s];
    for (let i = 0; i < out.a.length; i++) out.a[i] /= k * k;
    return out;
  }
  // _paper._sliding: the maximum (or minimum) over the (2 r + 1)^2 square, edges repeated; along the
  // columns, then the rows, each line first edge-padded so that the inner loop has no clamping
  function sliding(im, r, pick) {
    const bigger = pick === Math.max, cols = slide(im, r, bigger, im.h, im.w, im.w, 1);
    return slide(cols, r, bigger, im.w, im.h, 1, im.w);
  }
  // along `lines` lines of n values each, `step` apart in im.a, the lines starting `stride` apart
  function slide(im, r, bigger, n, lines, step, stride) {
    const out = image(im.h, im.w), line = new Float64Array(n + 2 * r);
    for (let l = 0; l < lines; l++) {
      const start = l * stride;
      for (let i = 0; i < n + 2 * r; i++) line[i] = im.a[start + Math.min(Math.max(i - r, 0), n - 1) * step];
      for (let i = 0; i < n; i++) {
        let v = line[i];
        for (let j = i + 1; j <= i + 2 * r; j++) { const u = line[j]; if (bigger ? u > v : u < v) v = u; }
        out.a[start + i * step] = v;
      }
    }
    return out;
  }

  // --- to_mnist's steps --------------------------------------------------------------------------
  // 1. images._grey: luminance 0.299 R + 0.587 G + 0.114 B, transparent parts over a background
  function grey(rgba, h, w) {
    const luma = image(h, w), alpha = new Float64Array(h * w);
    let seen = 0, weighted = 0;
    for (let i = 0; i < h * w; i++) {
      luma.a[i] = rgba[4 * i] * 0.299 + rgba[4 * i + 1] * 0.587 + rgba[4 * i + 2] * 0.114;
      alpha[i] = rgba[4 * i + 3] / 255.0; seen += alpha[i]; weighted += luma.a[i] * alpha[i];
    }
    const background = (seen ? weighted / seen : 255.0) < 128 ? 255.0 : 0.0;
    return map(luma, (v, i) => v * alpha[i] + background * (1.0 - alpha[i]));
  }
  // 2. images._paper_light: dark ink on light paper, inverted if the border's median is nearer dark
  function paperLight(g) {
    const border = [];
    for (let c = 0; c < g.w; c++) border.push(g.a[c]);
    for (let c = 0; c < g.w; c++) border.push(g.a[(g.h - 1) * g.w + c]);
    for (let r = 0; r < g.h; r++) border.push(g.a[r * g.w]);
    for (let r = 0; r < g.h; r++) border.push(g.a[r * g.w + g.w - 1]);
    border.sort((x, y) => x - y);
    const n = border.length, background = n % 2 ? border[(n - 1) / 2] : (border[n / 2 - 1] + border[n / 2]) / 2;
    const lo = min(g), hi = max(g);
    return background - lo > hi - background ? g : map(g, (v) => 255.0 - v);
  }
  // 2. _paper.paper_brightness: closing on 64 cells, refined by the mean of the paper cells around
  function paperBrightness(g, window) {
    const scale = Math.min(1.0, CONST.CELLS / Math.max(g.h, g.w));
    const cells = resize(g, Math.max(1, roundEven(g.h * scale)), Math.max(1, roundEven(g.w * scale)), "box");
    const radius = Math.max(1, roundEven(window * scale / 2)), margin = 3 * radius + CONST.GROW;
    const top = max(cells), extended = map(reflectPad(cells, margin), (v) => Math.min(Math.max(v, 0.0), top));
    const closed = sliding(sliding(extended, radius, Math.max), radius, Math.min);
    const half = Math.max(1, Math.floor(radius / 2));
    const paper = refined(extended, boxMean(closed, half), half);
    const inside = crop(paper, margin, margin + cells.h, margin, margin + cells.w);
    return resize(inside, g.h, g.w, "bilinear");
  }
  function refined(cells, paper, radius) {  // _paper._refined
    const darkness = map(cells, (v, i) => (paper.a[i] - v) / Math.max(paper.a[i], 1e-9));
    const threshold = CONST.INK_CELL * max(darkness);
    const isPaper = map(sliding(map(darkness, (v) => (v >= threshold ? 1.0 : 0.0)), CONST.GROW, Math.max), (v) => 1.0 - v);
    const share = boxMean(isPaper, radius);
    const mean = boxMean(map(cells, (v, i) => v * isPaper.a[i]), radius);
    return map(share, (s, i) => (s >= CONST.MIN_PAPER ? mean.a[i] / Math.max(s, 1e-9) : paper.a[i]));
  }
  // 2. images._bright_ink: the share of the paper's light each pixel absorbs, the strongest 1
  function brightInk(page, window) {
    const paper = paperBrightness(page, window);
    const darker = map(page, (v, i) => paper.a[i] - v);
    if (max(boxMean(darker, 1)) < CONST.MIN_CONTRAST * 255) return null;  // no ink: "draw a digit"
    const floor = CONST.PAPER_FLOOR * max(paper);
    const ink = map(darker, (v, i) => v / Math.max(paper.a[i], floor));
    const strongest = max(boxMean(ink, 1));
    return map(ink, (v) => Math.min(Math.max(v / strongest, 0.0), 1.0));
  }
  // 3. images._ink_box: [r0, r1, c0, c1], the rows and columns holding ink at least INK_LEVEL
  function inkBox(ink) {
    let r0 = ink.h, r1 = -1, c0 = ink.w, c1 = -1;
    for (let r = 0; r < ink.h; r++) for (let c = 0; c < ink.w; c++) if (ink.a[r * ink.w + c] >= CONST.INK_LEVEL) {
      r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, c); c1 = Math.max(c1, c);
    }
    return [r0, r1 + 1, c0, c1 + 1];
  }
  function around(box, side, h, w) {  // images._around
    const m = roundEven(CONST.MARGIN * side);
    return [Math.max(0, box[0] - m), Math.min(h, box[1] + m), Math.max(0, box[2] - m), Math.min(w, box[3] + m)];
  }
  // 4. images._fit: longer side to `box` px, Pillow's BOX filter (each pixel the area it covers)
  function fit(ink, box) {
    const scale = box / Math.max(ink.h, ink.w);
    return resize(ink, Math.max(1, roundEven(ink.h * scale)), Math.max(1, roundEven(ink.w * scale)), "box");
  }
  // 4. _strokes.stroke_width: twice the ink's area over its outline, times 4 / pi
  function strokeWidth(px) {
    const ink = (r, c) => r >= 0 && c >= 0 && r < px.h && c < px.w && px.a[r * px.w + c] >= 0.5;
    let area = 0, edges = 0;
    for (let r = -1; r <= px.h; r++) for (let c = -1; c <= px.w; c++) {
      if (ink(r, c)) area++;
      if (r < px.h && ink(r, c) !== ink(r + 1, c)) edges++;
      if (c < px.w && ink(r, c) !== ink(r, c + 1)) edges++;
    }
    return 2 * area / Math.max(edges, 1) * 4 / Math.PI;
  }
  function erosionSteps(width, box) {  // _strokes.erosion_steps
    const side = box * (width - CONST.THINNED) / (2 * (box - CONST.THINNED));
    return Math.max(0, roundEven(side * CONST.UPSCALE));
  }
  function eroded(ink, steps) {  // _strokes.eroded: the darkest of the 3x3 square, then the cross
    const square = [], cross = [[0, 1], [1, 0], [1, 1], [1, 2], [2, 1]];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) square.push([r, c]);
    for (let step = 0; step < steps; step++) {
      const p = edgePad(ink, 1), near = step % 2 ? cross : square;
      ink = map(ink, (v, i) => {
        const y = Math.floor(i / ink.w), x = i % ink.w;
        let m = Infinity;
        for (const [r, c] of near) m = Math.min(m, p.a[(y + r) * p.w + x + c]);
        return m;
      });
    }
    return ink;
  }
  // 5.-6. images._place: bytes, centred by their centre of mass at CENTRE in a black 28x28 field
  function place(small) {
    const patch = map(small, (v) => roundEven(Math.min(Math.max(v, 0), 1) * 255));
    let total = 0, rows = 0, cols = 0;
    for (let r = 0; r < patch.h; r++) for (let c = 0; c < patch.w; c++) {
      const v = patch.a[r * patch.w + c]; total += v; rows += v * r; cols += v * c;
    }
    const top = Math.min(Math.max(roundEven(CONST.CENTRE[0] - rows / total), 0), CONST.SIDE - patch.h);
    const left = Math.min(Math.max(roundEven(CONST.CENTRE[1] - cols / total), 0), CONST.SIDE - patch.w);
    const field = new Uint8Array(CONST.SIDE * CONST.SIDE);
    for (let r = 0; r < patch.h; r++) for (let c = 0; c < patch.w; c++) field[(top + r) * CONST.SIDE + left + c] = patch.a[r * patch.w + c];
    return field;
  }
  // to_mnist: canvas RGBA (h, w) -> the 28x28 bytes the network sees, or null when there is no ink
  function toMnist(rgba, h, w) {
    const page = paperLight(grey(rgba, h, w));  // 1., 2.
    const whole = brightInk(page, CONST.PAGE_WINDOW * Math.max(h, w));  // 2. over the whole page
    if (whole === null) return null;
    const found = inkBox(whole), side = Math.max(found[1] - found[0], found[3] - found[2]);
    const near = around(found, side, h, w);
    const ink = brightInk(crop(page, near[0], near[1], near[2], near[3]), CONST.DIGIT_WINDOW * side);
    if (ink === null) return null;
    const box = inkBox(ink), digit = crop(ink, box[0], box[1], box[2], box[3]);  // 3.
    let small = fit(digit, CONST.BOX);  // 4.
    const width = strokeWidth(small);
    if (width > CONST.THICKEST) {  // 4. thick strokes thinned
      const thin = eroded(fit(digit, CONST.UPSCALE * CONST.BOX), erosionSteps(width, CONST.BOX));
      if (max(thin) >= CONST.INK_LEVEL) { const b = inkBox(thin); small = fit(crop(thin, b[0], b[1], b[2], b[3]), CONST.BOX); }
    }
    return place(small);  // 5., 6.
  }

  // --- the network: mnistflow.training.network.forward ------------------------------------------
  const MODEL = JSON.parse(document.getElementById("mnistflow-model").textContent);
  function floats(base64) {  // float32, little-endian
    const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0)), view = new DataView(bytes.buffer);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  const W1 = floats(MODEL.W1), b1 = floats(MODEL.b1), W2 = floats(MODEL.W2), b2 = floats(MODEL.b2);
  const D = MODEL.shape[0], H = MODEL.shape[1], K = MODEL.shape[2];
  function forward(x) {  // x (D,) in [0, 1] -> probabilities (K,)
    const a1 = Float64Array.from(b1);  // A1 = relu(x W1 + b1), (H,)
    for (let i = 0; i < D; i++) if (x[i] !== 0) for (let j = 0; j < H; j++) a1[j] += x[i] * W1[i * H + j];
    const z = Float64Array.from(b2);  // Z2 = A1 W2 + b2, (K,)
    for (let j = 0; j < H; j++) if (a1[j] > 0) for (let k = 0; k < K; k++) z[k] += a1[j] * W2[j * K + k];
    const top = Math.max(...z), e = z.map((v) => Math.exp(v - top)), sum = e.reduce((s, v) => s + v, 0);
    return Array.from(e, (v) => v / sum);  // softmax, the row max subtracted first
  }

  // --- the page -----------------------------------------------------------------------------------
  const canvas = document.getElementById("pad"), ctx = canvas.getContext("2d", { willReadFrequently: true });
  const seen = document.getElementById("seen"), seenCtx = seen.getContext("2d");
  const answer = document.getElementById("answer"), bars = document.querySelectorAll("#bars tr");
  let state = { input: null, probabilities: null, answer: null };

  function clear() {
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    classify();
  }
  function classify() {
    const t0 = performance.now();
    const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const bytes = toMnist(rgba, canvas.height, canvas.width);
    const pixels = seenCtx.createImageData(CONST.SIDE, CONST.SIDE);
    if (bytes === null) {
      state = { input: null, probabilities: null, answer: null };
      answer.innerHTML = "<span class=\"hint\">draw a digit</span>";
    } else {
      // 6. bytes / 255 in float32, as prepare scales them
      const x = Array.from(bytes, (b) => Math.fround(b * Math.fround(1 / 255)));
      const p = forward(x), best = p.indexOf(Math.max(...p));
      state = { input: x, probabilities: p, answer: best };
      answer.innerHTML = "<b>" + best + "</b> " + (100 * p[best]).toFixed(1) + "%";
      for (let i = 0; i < bytes.length; i++) pixels.data.set([bytes[i], bytes[i], bytes[i], 255], 4 * i);
    }
    if (bytes === null) for (let i = 0; i < pixels.data.length; i += 4) pixels.data.set([0, 0, 0, 255], i);
    seenCtx.putImageData(pixels, 0, 0);
    bars.forEach((row, digit) => {
      const p = state.probabilities ? state.probabilities[digit] : 0;
      row.classList.toggle("top", digit === state.answer);
      row.querySelector("span").style.width = (100 * p).toFixed(1) + "%";
      row.querySelector("td:last-child").textContent = state.probabilities ? (100 * p).toFixed(1) + "%" : "";
    });
    state.ms = performance.now() - t0;
  }

  // drawing: mouse, pen or finger (pointer events; touch-action: none keeps the page from scrolling)
  let last = null, pending = false;
  function point(event) {
    const r = canvas.getBoundingClientRect();
    return [(event.clientX - r.left) * canvas.width / r.width, (event.clientY - r.top) * canvas.height / r.height];
  }
  function stroke(from, to) {
    ctx.strokeStyle = "#000"; ctx.lineWidth = CONST.PEN * canvas.width; ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.beginPath(); ctx.moveTo(from[0], from[1]); ctx.lineTo(to[0], to[1]); ctx.stroke();
  }
  function later() {  // classify now and then while drawing (it takes tens of ms), and when a stroke ends
    if (!pending) { pending = true; setTimeout(() => { pending = false; classify(); }, 100); }
  }
  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault(); canvas.setPointerCapture(e.pointerId); last = point(e); stroke(last, last); later();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (last === null) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) { const p = point(ev); stroke(last, p); last = p; }
    later();
  });
  const up = () => { if (last !== null) { last = null; classify(); } };
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  document.getElementById("clear").addEventListener("click", clear);

  // for tests and the curious: window.mnistflow.state() is what the page shows
  window.mnistflow = { classify: classify, clear: clear, toMnist: toMnist, forward: forward,
                       state: () => state, canvas: canvas };
  clear();
  window.mnistflow.openedMs = performance.now();
})();
