"use strict";
const $ = (id) => document.getElementById(id);
const MODALITIES = ["visible", "infrared"];
let info = null;
let lastQuery = null;  // () => run(...) of the last image query, re-run when the filter changes

function whereExpression() {
  const parts = [];
  document.querySelectorAll("#attributes select").forEach((select) => {
    if (select.value === "yes") parts.push(`${select.dataset.attribute} >= ${info.attribute_threshold}`);
    if (select.value === "no") parts.push(`${select.dataset.attribute} < ${info.attribute_threshold}`);
  });
  if ($("modality").value !== "") parts.push(`modality == ${$("modality").value}`);
  if ($("camera").value !== "") parts.push(`camid == ${$("camera").value}`);
  return parts.join(" and ");
}

function whereParam() {
  const where = whereExpression();
  return where ? `&where=${encodeURIComponent(where)}` : "";
}

function attributeText(match) {
  return (info.attributes || []).filter((name) => typeof match[name] === "number").map((name) =>
    element("span", {className: match[name] >= info.attribute_threshold ? "yes" : "no",
                     textContent: `${name} ${match[name].toFixed(2)} `}));
}

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
  $("query").querySelector("img").hidden = src === null;
  if (src !== null) $("query").querySelector("img").src = src;
  $("query-meta").replaceChildren(
    element("div", {className: "name", textContent: src === null ? "description" : record.img_path}),
    element("div", {className: "who", textContent: src === null ? record.where : who(record)}));
}

function showResults(result) {
  const query = result.query, higher = result.metric === "cosine";
  if (query.where !== undefined && result.matching !== undefined) {
    $("status").textContent = `${result.matching} of ${info.count} images fit the description; the ` +
      `${result.matches.length} most likely by joint probability, in ${result.seconds.toFixed(2)} s.`;
  } else {
    $("status").textContent = `Top ${result.matches.length} of ${info.count} ` +
      `${info.gallery_modalities.join("/")} images${whereExpression() ? " that fit the filter" : ""} in ` +
      `${result.seconds.toFixed(2)} s (${higher ? "cosine similarity, higher is closer" :
      "squared distance, lower is closer"}).`;
  }
  $("results").replaceChildren(...result.matches.map((match) => {
    const known = query.pid !== null && match.pid !== null;
    const card = element("div", {className: "result-card " + (known ? (query.pid === match.pid ? "same" : "other")
                                                                   : "unknown")}, [
      element("img", {src: `/gallery/${match.id}`, alt: `match ${match.rank}`, title: match.img_path}),
      element("div", {}, [element("span", {className: "rank", textContent: `#${match.rank}`}),
                          element("span", {className: "score", textContent: match.score.toFixed(4)})]),
      element("div", {className: "meta", textContent: `${who(match)} \u00b7 ${MODALITIES[match.modality]}`}),
      element("div", {className: "file", textContent: match.img_path.split(/[\\/]/).slice(-3).join("/")}),
      element("div", {className: "attrs"}, attributeText(match)),
    ]);
    Object.assign(card.dataset, {rank: match.rank, score: match.score, id: match.id,
                                 pid: match.pid === null ? "" : match.pid,
                                 camid: match.camid === null ? "" : match.camid,
                                 modality: match.modality,
                                 attributes: JSON.stringify(Object.fromEntries((info.attributes || []).map(
                                   (name) => [name, match[name]])))});
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
  $("describe-only").checked = false;
  lastQuery = () => run(() => fetch(`/api/search?sample=${sample}&k=${k()}${whereParam()}`), `/sample/${sample}`);
  lastQuery();
}

function describeOnly() {
  if (!whereExpression()) {
    $("results").replaceChildren();
    $("query").hidden = true;
    $("status").textContent = "Choose yes or no for an attribute, a modality or a camera to describe someone.";
    return;
  }
  run(() => fetch(`/api/describe?k=${k()}${whereParam()}`), null);
}

function filterChanged() {
  $("where").textContent = whereExpression() ? `where ${whereExpression()}` : "";
  if ($("describe-only").checked) describeOnly();
  else if (lastQuery) lastQuery();
}

$("upload").addEventListener("change", () => {
  const file = $("upload").files[0];
  if (!file) return;
  document.querySelectorAll(".sample").forEach((node) => node.classList.remove("selected"));
  $("describe-only").checked = false;
  const src = URL.createObjectURL(file);
  lastQuery = () => run(() => fetch(`/api/search?k=${k()}&name=${encodeURIComponent(file.name)}${whereParam()}`,
                                    {method: "POST", body: file,
                                     headers: {"Content-Type": file.type || "application/octet-stream"}}), src);
  lastQuery();
});

["modality", "camera", "describe-only"].forEach((id) => $(id).addEventListener("change", filterChanged));

fetch("/api/info").then((response) => response.json()).then((data) => {
  info = data;
  $("index-info").textContent = `${data.count} ${data.gallery_modalities.join(" and ")} images \u00b7 ` +
    `${data.kind} index, ${data.metric}, ${data.dim}-d \u00b7 model ${data.model_fingerprint} \u00b7 ` +
    `${data.query_modality} queries`;
  document.querySelectorAll(".query-modality").forEach((node) => { node.textContent = data.query_modality; });
  $("k").value = data.k;
  $("k").max = data.count;
  $("samples-block").hidden = data.samples.length === 0;
  $("camera").append(...data.cameras.map((camid) => element("option", {value: camid, textContent: `cam ${camid}`})));
  $("attributes").replaceChildren(...data.attributes.map((name) => {
    const select = element("select", {}, ["any", "yes", "no"].map((value) =>
      element("option", {value: value === "any" ? "" : value, textContent: value})));
    select.dataset.attribute = name;
    select.addEventListener("change", filterChanged);
    return element("label", {}, [element("span", {textContent: name.replace(/_/g, " ")}), select]);
  }));
  $("samples").replaceChildren(...data.samples.map((sample) => {
    const button = element("button", {className: "sample", type: "button", title: sample.name}, [
      element("img", {src: `/sample/${sample.sample}`, alt: sample.name}),
      element("span", {textContent: who(sample)})]);
    button.addEventListener("click", () => pickSample(sample.sample, button));
    return button;
  }));
}).catch((error) => showError("Cannot read the index: " + error.message));
