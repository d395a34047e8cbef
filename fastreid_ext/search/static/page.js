"use strict";
const $ = (id) => document.getElementById(id);
const MODALITIES = ["visible", "infrared"];
let info = null;

function who(record) {
  const pid = record.pid === null ? "?" : record.pid, cam = record.camid === null ? "?" : record.camid;
  return `id ${pid} \u00b7 cam ${cam}`;
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
      element("div", {className: "meta", textContent: `${who(match)} \u00b7 ${MODALITIES[match.modality]}`}),
      element("div", {className: "file", textContent: match.img_path.split(/[\\/]/).slice(-3).join("/")}),
    ]);
    Object.assign(card.dataset, {rank: match.rank, score: match.score, id: match.id,
                                 pid: match.pid === null ? "" : match.pid,
                                 camid: match.camid === null ? "" : match.camid});
    return card;
  }));
}

async function run(request, querySrc) {
  showError("");
  $("status").textContent = "Searching\u2026";
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
  $("index-info").textContent = `${data.count} ${data.gallery_modalities.join(" and ")} images \u00b7 ` +
    `${data.kind} index, ${data.metric}, ${data.dim}-d \u00b7 model ${data.model_fingerprint} \u00b7 ` +
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
