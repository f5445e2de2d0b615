// The latent explorer: plain JavaScript over the JSON API of `vae_cnn serve` (docs/api.md).
// window.explorer exposes the state the browser test reads back.
"use strict";

// Paul Tol's muted palette, as vae_mean.png (render/latent_scatter.cpp); class k takes colour k mod 10.
const PALETTE = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
                 "#DDCC77", "#CC6677", "#882255", "#AA4499", "#555555"];
const MAP_PADDING = 48;     // CSS pixels around the plot area, for the tick labels
const LEGEND_CLASSES = 20;  // more classes than this: the legend names the first 19 and counts the rest

const state = {
  info: null, labels: [], means: [],
  channels: 1, height: 28, width: 28,  // the model's images: info.image_shape [C,H,W]
  classNames: [], rows: 1,             // info.class_names (empty: unlabelled); rows of a 1-D latent
  dimX: 0, dimY: 1, others: [],       // shown dimensions; values of the rest (sliders)
  centre: [0, 0], scale: 1,           // z at the plot's centre, CSS pixels per z unit
  pointerZ: null, pendingZ: null, inFlight: false, lastDecoded: null,
  selected: -1, drawnZ: null, lineMode: false, lineEnds: [],
  requests: 0,
};
window.explorer = state;

const $ = (id) => document.getElementById(id);
const map = $("map");
const mapContext = map.getContext("2d");

async function getJson(url, options) {
  state.requests += 1;
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// ---- coordinates -------------------------------------------------------------------------------
function plotSize() { return map.clientWidth - 2 * MAP_PADDING; }
function zToPixel(zx, zy) {
  const half = plotSize() / 2;
  return [MAP_PADDING + half + (zx - state.centre[0]) * state.scale,
          MAP_PADDING + half - (zy - state.centre[1]) * state.scale];
}
function pixelToZ(px, py) {
  const half = plotSize() / 2;
  return [state.centre[0] + (px - MAP_PADDING - half) / state.scale,
          state.centre[1] - (py - MAP_PADDING - half) / state.scale];
}
// The full latent point under map pixel (px, py): shown dimensions from the pointer, others from sliders.
function latentAt(px, py) {
  const [zx, zy] = pixelToZ(px, py);
  const z = state.others.slice();
  z[state.dimX] = zx;
  if (state.info.latent_dim > 1) z[state.dimY] = zy;
  return z;
}
// Where z lands on the page, in client coordinates (the browser test moves the pointer there).
state.zToClient = (z) => {
  const [px, py] = zToPixel(z[state.dimX], state.info.latent_dim > 1 ? z[state.dimY] : 0);
  const box = map.getBoundingClientRect();
  return [box.left + px, box.top + py];
};
// The y of row `row` for a latent of one dimension: one row per class, from the top.
function rowY(row) {
  const range = state.info.range;
  return range - (row + 0.5) * (2 * range / state.rows);
}
// The y a point is drawn at: its z, or its class's row for a latent of one dimension.
function pointY(i) { return state.info.latent_dim > 1 ? state.means[i][state.dimY] : rowY(state.labels[i]); }

// ---- classes -----------------------------------------------------------------------------------
// MNIST's classes are the digits "0".."9": the page keeps saying "digit 7" for those.
function namesAreDigits(names) { return names.length === 10 && names.every((name, k) => name === String(k)); }
// "digit 7", "class eight", or "" for unlabelled images.
function classText(label) {
  const names = state.classNames;
  if (names.length === 0) return "";
  if (namesAreDigits(names)) return `digit ${label}`;
  return `class ${label >= 0 && label < names.length ? names[label] : label}`;
}
function classColour(label) { return PALETTE[((label % 10) + 10) % 10]; }
// A name cut to `most` characters, for the map's row labels (the legend has room for it whole).
function shortName(name, most) { return name.length <= most ? name : name.slice(0, most - 1) + "\u2026"; }

// Class names are folder names, so user input: they reach the page through textContent only.
function buildLegend() {
  const legend = $("legend");
  legend.textContent = "";
  const names = state.classNames;
  legend.hidden = names.length === 0;
  const named = names.length > LEGEND_CLASSES ? LEGEND_CLASSES - 1 : names.length;
  for (let k = 0; k < named; ++k) {
    const entry = document.createElement("span");
    const dot = document.createElement("i");
    dot.style.background = classColour(k);
    entry.append(dot, names[k]);
    legend.appendChild(entry);
  }
  if (named < names.length) {
    const more = document.createElement("span");
    more.textContent = `+${names.length - named} more`;
    legend.appendChild(more);
  }
}

// ---- the map -----------------------------------------------------------------------------------
function tickStep(span) {
  const raw = span / 8, power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const multiple of [1, 2, 5]) if (raw <= multiple * power) return multiple * power;
  return 10 * power;
}

function drawAxes(ctx, size) {
  const [left, top] = [MAP_PADDING, MAP_PADDING];
  const [zLeft, zTop] = pixelToZ(left, top), [zRight, zBottom] = pixelToZ(left + size, top + size);
  const step = tickStep(zRight - zLeft);
  ctx.font = "12px DejaVu Sans, sans-serif";
  ctx.fillStyle = "#282828";
  ctx.textAlign = "center";
  for (let v = Math.ceil(zLeft / step) * step; v <= zRight; v += step) {
    const [x] = zToPixel(v, 0);
    ctx.strokeStyle = "#e1e1e1";
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + size); ctx.stroke();
    ctx.fillText(Number(v.toPrecision(6)).toString(), x, top + size + 16);
  }
  ctx.textAlign = "right";
  if (state.info.latent_dim === 1 && state.classNames.length > 0 && state.rows <= LEGEND_CLASSES) {
    for (let row = 0; row < state.rows; ++row) {
      const [, y] = zToPixel(0, rowY(row));
      if (y >= top && y <= top + size) ctx.fillText(shortName(state.classNames[row] || "", 6), left - 4, y + 4);
    }
  }
  if (state.info.latent_dim > 1) {
    for (let v = Math.ceil(zBottom / step) * step; v <= zTop; v += step) {
      const [, y] = zToPixel(0, v);
      ctx.strokeStyle = "#e1e1e1";
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + size, y); ctx.stroke();
      ctx.fillText(Number(v.toPrecision(6)).toString(), left - 6, y + 4);
    }
  }
  ctx.strokeStyle = "#282828";
  ctx.strokeRect(left, top, size, size);
  ctx.textAlign = "center";
  ctx.fillText(`z[${state.dimX}]`, left + size / 2, top + size + 36);
  if (state.info.latent_dim > 1) {
    ctx.save(); ctx.translate(14, top + size / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(`z[${state.dimY}]`, 0, 0); ctx.restore();
  }
}

function drawMarker(ctx, z, colour, radius) {
  const [x, y] = zToPixel(z[state.dimX], state.info.latent_dim > 1 ? z[state.dimY] : 0);
  ctx.strokeStyle = colour; ctx.lineWidth = 2.5;
  ctx.beginPath(); ctx.arc(x, y, radius, 0, 2 * Math.PI); ctx.stroke();
  ctx.beginPath(); ctx.moveTo(x - radius - 4, y); ctx.lineTo(x + radius + 4, y);
  ctx.moveTo(x, y - radius - 4); ctx.lineTo(x, y + radius + 4); ctx.stroke();
  ctx.lineWidth = 1;
}

function drawMap() {
  const ratio = window.devicePixelRatio || 1;
  const width = map.clientWidth, size = plotSize();
  if (map.width !== Math.round(width * ratio)) { map.width = Math.round(width * ratio); map.height = map.width; }
  const ctx = mapContext;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, width);
  drawAxes(ctx, size);
  ctx.save();
  ctx.beginPath(); ctx.rect(MAP_PADDING, MAP_PADDING, size, size); ctx.clip();
  ctx.globalAlpha = 0.55;
  for (let i = 0; i < state.means.length; ++i) {
    const [x, y] = zToPixel(state.means[i][state.dimX], pointY(i));
    ctx.fillStyle = classColour(state.labels[i]);
    ctx.beginPath(); ctx.arc(x, y, 2.4, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.globalAlpha = 1;
  if (state.selected >= 0) drawMarker(ctx, state.means[state.selected], "#000", 6);
  if (state.drawnZ) drawMarker(ctx, state.drawnZ, "#cc3311", 8);
  for (const end of state.lineEnds) drawMarker(ctx, end, "#ee7733", 5);
  if (state.lineEnds.length === 2) {
    const [a, b] = state.lineEnds.map((z) => zToPixel(z[state.dimX], state.info.latent_dim > 1 ? z[state.dimY] : 0));
    ctx.strokeStyle = "#ee7733"; ctx.setLineDash([6, 4]);
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke(); ctx.setLineDash([]);
  }
  if (state.pointerZ) drawMarker(ctx, state.pointerZ, "rgba(0,0,0,0.5)", 3);
  ctx.restore();
}

// ---- digits ------------------------------------------------------------------------------------
// Sizes a canvas for the model's H×W images, its longer side near `side`: a whole number of canvas
// pixels per image pixel (at least one), so every image pixel is the same crisp square.
function fitCanvas(canvas, side) {
  const scale = Math.max(1, Math.round(side / Math.max(state.height, state.width)));
  canvas.width = state.width * scale;
  canvas.height = state.height * scale;
}

// C·H·W levels as the API sends them (planar: channel after channel, each row by row) onto a
// canvas, grey for one channel, RGB for three; each pixel a crisp square.
function showDigit(canvas, pixels) {
  const [channels, height, width] = [state.channels, state.height, state.width];
  const area = height * width;
  const small = document.createElement("canvas");
  small.width = width; small.height = height;
  const context = small.getContext("2d");
  const image = context.createImageData(width, height);
  for (let i = 0; i < area; ++i) {
    for (let c = 0; c < 3; ++c) image.data[4 * i + c] = pixels[(channels === 3 ? c * area : 0) + i];
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = false;
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

function zText(z) { return "z = (" + z.map((v) => v.toFixed(3)).join(", ") + ")"; }

// Pointer moves are coalesced per animation frame, and at most one decode is in flight: a fast
// pointer never queues requests up, and the digit shown is the latest one asked for.
function decodeLoop() {
  if (state.pendingZ && !state.inFlight) {
    const z = state.pendingZ;
    state.pendingZ = null;
    state.inFlight = true;
    getJson("api/decode?z=" + encodeURIComponent(z.join(",")))
      .then((reply) => {
        state.lastDecoded = {z: reply.z, pixels: reply.pixels};
        showDigit($("decoded"), reply.pixels);
        $("decoded-z").textContent = zText(reply.z);
      })
      .catch((error) => { $("decoded-z").textContent = "error: " + error.message; })
      .finally(() => { state.inFlight = false; });
  }
  requestAnimationFrame(decodeLoop);
}

async function showTestImage(index) {
  const reply = await getJson("api/test/" + index);
  state.selected = index;
  showDigit($("test-original"), reply.pixels);
  showDigit($("test-reconstruction"), reply.reconstruction);
  const named = classText(reply.label);
  $("test-text").textContent = `test image ${index}, ` + (named ? named + ", " : "") + zText(reply.z_mean);
  drawMap();
}

async function showLine() {
  const [from, to] = state.lineEnds;
  const reply = await getJson(`api/line?from=${from.join(",")}&to=${to.join(",")}&steps=10`);
  const row = $("line-digits");
  row.textContent = "";
  for (const pixels of reply.digits) {
    const canvas = document.createElement("canvas");
    fitCanvas(canvas, 56);
    row.appendChild(canvas);
    showDigit(canvas, pixels);
  }
  $("line-text").textContent = "from " + zText(reply.from) + " to " + zText(reply.to);
}

// ---- map interaction ---------------------------------------------------------------------------
function nearestPoint(px, py) {
  let best = -1, bestDistance = 36;  // within 6 CSS pixels
  for (let i = 0; i < state.means.length; ++i) {
    const [x, y] = zToPixel(state.means[i][state.dimX], pointY(i));
    const distance = (x - px) ** 2 + (y - py) ** 2;
    if (distance < bestDistance) { best = i; bestDistance = distance; }
  }
  return best;
}

function setUpMap() {
  let drag = null;
  const local = (event) => { const box = map.getBoundingClientRect(); return [event.clientX - box.left, event.clientY - box.top]; };
  map.addEventListener("pointermove", (event) => {
    const [px, py] = local(event);
    if (drag) {
      const moved = Math.abs(px - drag.x) + Math.abs(py - drag.y);
      if (moved > 3) drag.moved = true;
      if (drag.moved) {
        state.centre = [drag.centre[0] - (px - drag.x) / state.scale, drag.centre[1] + (py - drag.y) / state.scale];
      }
    }
    state.pointerZ = latentAt(px, py);
    state.pendingZ = state.pointerZ;
    const near = drag && drag.moved ? -1 : nearestPoint(px, py);
    const named = near >= 0 ? classText(state.labels[near]) : "";
    $("pointer-text").textContent = near >= 0 ? `test image ${near}` + (named ? `, ${named}` : "") : "";
    drawMap();
  });
  map.addEventListener("pointerleave", () => { $("pointer-text").textContent = ""; });
  map.addEventListener("pointerdown", (event) => {
    const [px, py] = local(event);
    drag = {x: px, y: py, centre: state.centre.slice(), moved: false};
    map.setPointerCapture(event.pointerId);
  });
  map.addEventListener("pointerup", (event) => {
    const [px, py] = local(event);
    const wasDrag = drag && drag.moved;
    drag = null;
    if (wasDrag) return;
    if (state.lineMode) {
      const index = nearestPoint(px, py);
      state.lineEnds.push(index >= 0 ? state.means[index].slice() : latentAt(px, py));
      if (state.lineEnds.length === 2) {
        state.lineMode = false;
        $("line-mode").classList.remove("active");
        map.classList.remove("line-mode");
        showLine().catch((error) => { $("line-text").textContent = "error: " + error.message; });
      }
      drawMap();
      return;
    }
    const index = nearestPoint(px, py);
    if (index >= 0) showTestImage(index).catch((error) => { $("test-text").textContent = "error: " + error.message; });
  });
  map.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [px, py] = local(event);
    const before = pixelToZ(px, py);
    state.scale *= Math.exp(-event.deltaY * 0.0015);
    const after = pixelToZ(px, py);
    state.centre = [state.centre[0] + before[0] - after[0], state.centre[1] + before[1] - after[1]];
    drawMap();
  }, {passive: false});
  $("reset-view").addEventListener("click", resetView);
  $("line-mode").addEventListener("click", () => {
    state.lineMode = true;
    state.lineEnds = [];
    $("line-mode").classList.add("active");
    map.classList.add("line-mode");
    $("line-text").textContent = "click two points of the map";
    drawMap();
  });
}

function resetView() {
  state.centre = [0, 0];
  state.scale = plotSize() / (2 * state.info.range);
  drawMap();
}

// ---- latent sizes above 2: which dimensions the map shows, sliders for the rest ------------------
function setUpDimensions() {
  const latent = state.info.latent_dim;
  state.others = new Array(latent).fill(0);
  if (latent <= 2) {
    const what = state.classNames.length === 0 ? "unlabelled images: one row"
      : namesAreDigits(state.classNames) ? "each digit on its own row" : "each class on its own row";
    $("dims").textContent = latent === 1 ? `one latent dimension: ${what}` : "";
    return;
  }
  const choose = (which) => {
    const select = document.createElement("select");
    for (let d = 0; d < latent; ++d) select.add(new Option(`z[${d}]`, d));
    select.value = which === "x" ? state.dimX : state.dimY;
    select.addEventListener("change", () => {
      if (which === "x") state.dimX = Number(select.value); else state.dimY = Number(select.value);
      buildSliders(); drawMap();
    });
    return select;
  };
  const dims = $("dims");
  dims.append("map: ", choose("x"), " across, ", choose("y"), " up");
  buildSliders();
}

function buildSliders() {
  const box = $("sliders");
  box.textContent = "";
  const range = state.info.range;
  for (let d = 0; d < state.info.latent_dim; ++d) {
    if (d === state.dimX || d === state.dimY) continue;
    const label = document.createElement("label");
    const slider = document.createElement("input");
    Object.assign(slider, {type: "range", min: -range, max: range, step: range / 200, value: state.others[d]});
    const value = document.createElement("span");
    value.textContent = ` ${state.others[d].toFixed(2)}`;
    slider.addEventListener("input", () => {
      state.others[d] = Number(slider.value);
      value.textContent = ` ${state.others[d].toFixed(2)}`;
      if (state.pointerZ) { state.pointerZ[d] = state.others[d]; state.pendingZ = state.pointerZ.slice(); }
    });
    label.append(`z[${d}] `, slider, value);
    box.appendChild(label);
  }
}

// ---- the drawing pad ---------------------------------------------------------------------------
// Reduced the way MNIST's digits were made: the stroke's bounding box scaled to fit 20/28 of the
// image's sides (20x20 of 28x28; aspect kept, anti-aliased), then placed in the H×W frame with its
// centre of mass at the centre. A colour model gets the stroke in the pad's ink colour: each
// channel the grey stroke times that colour's level, planar as the API takes it.
function padToImage(pad) {
  const source = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height).data;
  let [left, top, right, bottom] = [pad.width, pad.height, -1, -1];
  for (let y = 0; y < pad.height; ++y) {
    for (let x = 0; x < pad.width; ++x) {
      if (source[4 * (y * pad.width + x)] > 0) {
        left = Math.min(left, x); right = Math.max(right, x); top = Math.min(top, y); bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) return null;
  const [height, width] = [state.height, state.width];
  const boxWidth = Math.max(1, Math.round(width * 20 / 28)), boxHeight = Math.max(1, Math.round(height * 20 / 28));
  const strokeWidth = right - left + 1, strokeHeight = bottom - top + 1;
  const fit = Math.min(boxWidth / strokeWidth, boxHeight / strokeHeight);
  const box = document.createElement("canvas");
  box.width = boxWidth; box.height = boxHeight;
  const boxContext = box.getContext("2d");
  boxContext.imageSmoothingEnabled = true;
  boxContext.imageSmoothingQuality = "high";
  boxContext.drawImage(pad, left, top, strokeWidth, strokeHeight, (boxWidth - strokeWidth * fit) / 2,
                       (boxHeight - strokeHeight * fit) / 2, strokeWidth * fit, strokeHeight * fit);
  const grey = boxContext.getImageData(0, 0, boxWidth, boxHeight).data;
  let mass = 0, sumX = 0, sumY = 0;
  for (let y = 0; y < boxHeight; ++y) for (let x = 0; x < boxWidth; ++x) {
    const v = grey[4 * (y * boxWidth + x)];
    mass += v; sumX += v * x; sumY += v * y;
  }
  if (mass === 0) return null;
  const shiftX = Math.round((width - 1) / 2 - sumX / mass), shiftY = Math.round((height - 1) / 2 - sumY / mass);
  const area = height * width, ink = state.channels === 3 ? inkLevels() : [255];
  const pixels = new Array(state.channels * area).fill(0);
  for (let y = 0; y < boxHeight; ++y) for (let x = 0; x < boxWidth; ++x) {
    const [tx, ty] = [x + shiftX, y + shiftY];
    if (tx < 0 || tx >= width || ty < 0 || ty >= height) continue;
    const v = grey[4 * (y * boxWidth + x)];
    for (let c = 0; c < ink.length; ++c) pixels[c * area + ty * width + tx] = Math.round(v * ink[c] / 255);
  }
  return pixels;
}

// The ink colour picker's value as three levels 0..255.
function inkLevels() {
  const hex = $("pad-ink").value;  // "#rrggbb"
  return [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
}

function setUpPad() {
  const pad = $("pad");
  const context = pad.getContext("2d");
  const clear = () => { context.fillStyle = "#000"; context.fillRect(0, 0, pad.width, pad.height); };
  clear();
  fitCanvas($("pad-input"), 112);
  fitCanvas($("pad-reconstruction"), 112);
  $("pad-size").textContent = `as ${state.width}×${state.height}`;
  $("pad-title").textContent = namesAreDigits(state.classNames) ? "Draw a digit" : "Draw";
  $("pad-ink-label").hidden = state.channels !== 3;
  $("pad-ink").addEventListener("input", () => encodeDrawing());
  let last = null;
  const local = (event) => { const box = pad.getBoundingClientRect(); return [event.clientX - box.left, event.clientY - box.top]; };
  pad.addEventListener("pointerdown", (event) => { last = local(event); pad.setPointerCapture(event.pointerId); stroke(last); });
  pad.addEventListener("pointermove", (event) => { if (last) stroke(local(event)); });
  pad.addEventListener("pointerup", () => { last = null; encodeDrawing(); });
  function stroke(point) {
    context.strokeStyle = "#fff"; context.lineWidth = 22; context.lineCap = "round"; context.lineJoin = "round";
    context.beginPath(); context.moveTo(last[0], last[1]); context.lineTo(point[0], point[1]); context.stroke();
    last = point;
  }
  $("pad-clear").addEventListener("click", () => { clear(); state.drawnZ = null; $("pad-z").textContent = ""; drawMap(); });
}

async function encodeDrawing() {
  const pixels = padToImage($("pad"));
  if (!pixels) return;
  showDigit($("pad-input"), pixels);
  try {
    const reply = await getJson("api/encode", {method: "POST", headers: {"Content-Type": "application/json"},
                                                body: JSON.stringify({pixels})});
    state.drawnZ = reply.z_mean;
    showDigit($("pad-reconstruction"), reply.reconstruction);
    $("pad-z").textContent = (namesAreDigits(state.classNames) ? "drawn digit at " : "drawn at ") + zText(reply.z_mean);
    drawMap();
  } catch (error) {
    $("pad-z").textContent = "error: " + error.message;
  }
}

// ---- start -------------------------------------------------------------------------------------
async function start() {
  const [info, latents] = await Promise.all([getJson("api/info"), getJson("api/latents")]);
  state.info = info;
  state.labels = latents.labels;
  state.means = latents.z_mean;
  [state.channels, state.height, state.width] = info.image_shape;
  state.classNames = info.class_names || [];
  state.rows = state.labels.reduce((rows, label) => Math.max(rows, label + 1), Math.max(1, state.classNames.length));
  $("model").textContent = `${info.weights}: ${info.dataset}, ${info.loss.toUpperCase()} loss, latent size ${info.latent_dim}, ` +
    `${info.epochs} epochs; test loss ${info.test_loss.toFixed(2)} = reconstruction ${info.test_reconstruction.toFixed(2)} ` +
    `+ KL ${info.test_kl.toFixed(2)} over ${info.test_images} test images`;
  buildLegend();
  fitCanvas($("decoded"), 224);
  fitCanvas($("test-original"), 112);
  fitCanvas($("test-reconstruction"), 112);
  setUpDimensions();
  setUpMap();
  setUpPad();
  resetView();
  state.ready = true;
  requestAnimationFrame(decodeLoop);
}

start().catch((error) => { $("model").textContent = "could not load the model: " + error.message; });
