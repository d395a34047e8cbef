"""The page of the search server (:mod:`~fastreid_ext.search.server`): HTML, CSS and a little JavaScript
that calls the server's JSON API. No external resource, so it works offline."""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cross-modality person search</title>
<style>
  :root { --same: #1e9e3c; --other: #d22828; --unknown: #a0a0a0; --query: #285ac8; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #222; background: #f4f5f7; }
  header { padding: 12px 24px; background: #1f2937; color: #fff; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; color: #cbd5e1; font-size: 13px; }
  main { display: grid; grid-template-columns: 300px 1fr; gap: 20px; padding: 20px 24px; }
  section { background: #fff; border-radius: 8px; padding: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h2 { margin: 0 0 10px; font-size: 15px; }
  label { display: block; margin-bottom: 10px; }
  .samples { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; }
  .sample { padding: 2px; border: 2px solid transparent; border-radius: 4px; background: #eef0f3;
            cursor: pointer; font-size: 11px; text-align: center; }
  .sample:hover, .sample.selected { border-color: var(--query); }
  .sample img { width: 100%; aspect-ratio: 1 / 2; object-fit: cover; display: block; }
  #query { display: flex; gap: 12px; align-items: flex-start; margin-bottom: 14px; }
  #query img { width: 80px; aspect-ratio: 1 / 2; object-fit: cover; border: 4px solid var(--query);
               border-radius: 4px; }
  #status { color: #555; margin: 0 0 10px; }
  #error { display: none; padding: 10px; margin-bottom: 10px; border-radius: 6px; background: #fde8e8;
           color: #9b1c1c; border: 1px solid #f5b5b5; }
  #results { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 12px; }
  .result-card { background: #fafafa; border-radius: 6px; padding: 6px; border: 1px solid #e5e7eb; }
  .result-card img { width: 100%; aspect-ratio: 1 / 2; object-fit: cover; display: block; border-radius: 4px;
                     border: 4px solid var(--unknown); }
  .result-card.same img { border-color: var(--same); }
  .result-card.other img { border-color: var(--other); }
  .result-card .rank { font-weight: 600; }
  .result-card .score { float: right; font-variant-numeric: tabular-nums; }
  .result-card .meta, .result-card .file { font-size: 12px; color: #555; overflow-wrap: anywhere; }
  .legend { font-weight: normal; font-size: 12px; color: #555; margin-left: 8px; }
  .legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; border-radius: 2px; }
</style>
</head>
<body>
<header>
  <h1>Cross-modality person search</h1>
  <p id="index-info">Loading the index&hellip;</p>
</header>
<main>
  <section>
    <h2>Query</h2>
    <label>Upload an image (<span class="query-modality">query</span>)
      <input id="upload" type="file" accept="image/*"></label>
    <label>Matches shown <input id="k" type="number" min="1" value="10" style="width: 5em"></label>
    <div id="query" hidden><img alt="query image"><div id="query-meta"></div></div>
    <div id="samples-block"><h2>Or pick a sample</h2><div id="samples" class="samples"></div></div>
  </section>
  <section>
    <h2>Top matches <span class="legend"><span style="background: var(--same)"></span>same identity
      <span style="background: var(--other)"></span>other identity
      <span style="background: var(--unknown)"></span>unknown</span></h2>
    <div id="error" role="alert"></div>
    <p id="status">Upload an image or pick a sample.</p>
    <div id="results"></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const MODALITIES = ["visible", "infrared"];
let info = null;

function who(record) {
  const pid = record.pid === null ? "?" : record.pid, cam = record.camid === null ? "?" : record.camid;
  return `id ${pid} \\u00b7 cam ${cam}`;
}

function element(tag, props, children) {
  const node = Object.assign(document.createElement(tag), props || {});
  (children || []).forEach((child) => node.append(child));
  return node;
}

function showError(message) {
  $("error").textContent = message;
  $("error").style.display = message ? "block" : "none";
}

function showQuery(src, record) {
  $("query").hidden = false;
  $("query").querySelector("img").src = src;
  $("query-meta").replaceChildren(element("div", {className: "name", textContent: record.img_path}),
                                  element("div", {className: "who", textContent: who(record)}));
}

function showResults(result) {
  const query = result.query, higher = result.metric === "cosine";
  $("status").textContent = `Top ${result.matches.length} of ${info.count} ${info.gallery_modalities.join("/")} ` +
    `images in ${result.seconds.toFixed(2)} s (${higher ? "cosine similarity, higher is closer" :
    "squared distance, lower is closer"}).`;
  $("results").replaceChildren(...result.matches.map((match) => {
    const known = query.pid !== null && match.pid !== null;
    const card = element("div", {className: "result-card " + (known ? (query.pid === match.pid ? "same" : "other")
                                                                   : "unknown")}, [
      element("img", {src: `/gallery/${match.id}`, alt: `match ${match.rank}`, title: match.img_path}),
      element("div", {}, [element("span", {className: "rank", textContent: `#${match.rank}`}),
                          element("span", {className: "score", textContent: match.score.toFixed(4)})]),
      element("div", {className: "meta", textContent: `${who(match)} \\u00b7 ${MODALITIES[match.modality]}`}),
      element("div", {className: "file", textContent: match.img_path.split(/[\\\\/]/).slice(-3).join("/")}),
    ]);
    Object.assign(card.dataset, {rank: match.rank, score: match.score, id: match.id,
                                 pid: match.pid === null ? "" : match.pid,
                                 camid: match.camid === null ? "" : match.camid});
    return card;
  }));
}

async function run(request, querySrc) {
  showError("");
  $("status").textContent = "Searching\\u2026";
  try {
    const response = await request();
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    showQuery(querySrc, body.query);
    showResults(body);
  } catch (error) {
    $("results").replaceChildren();
    $("query").hidden = true;
    $("status").textContent = "No results.";
    showError(error.message);
  }
}

function k() { return encodeURIComponent($("k").value); }

function pickSample(sample, button) {
  document.querySelectorAll(".sample").forEach((node) => node.classList.remove("selected"));
  button.classList.add("selected");
  $("upload").value = "";
  run(() => fetch(`/api/search?sample=${sample}&k=${k()}`), `/sample/${sample}`);
}

$("upload").addEventListener("change", () => {
  const file = $("upload").files[0];
  if (!file) return;
  document.querySelectorAll(".sample").forEach((node) => node.classList.remove("selected"));
  run(() => fetch(`/api/search?k=${k()}&name=${encodeURIComponent(file.name)}`,
                  {method: "POST", body: file, headers: {"Content-Type": file.type || "application/octet-stream"}}),
      URL.createObjectURL(file));
});

fetch("/api/info").then((response) => response.json()).then((data) => {
  info = data;
  $("index-info").textContent = `${data.count} ${data.gallery_modalities.join(" and ")} images \\u00b7 ` +
    `${data.kind} index, ${data.metric}, ${data.dim}-d \\u00b7 model ${data.model_fingerprint} \\u00b7 ` +
    `${data.query_modality} queries`;
  document.querySelectorAll(".query-modality").forEach((node) => { node.textContent = data.query_modality; });
  $("k").value = data.k;
  $("k").max = data.count;
  $("samples-block").hidden = data.samples.length === 0;
  $("samples").replaceChildren(...data.samples.map((sample) => {
    const button = element("button", {className: "sample", type: "button", title: sample.name}, [
      element("img", {src: `/sample/${sample.sample}`, alt: sample.name}),
      element("span", {textContent: who(sample)})]);
    button.addEventListener("click", () => pickSample(sample.sample, button));
    return button;
  }));
}).catch((error) => showError("Cannot read the index: " + error.message));
</script>
</body>
</html>
"""
