// The labeler page. Model text is untrusted: it only ever reaches the DOM through textContent.
"use strict";

const FLAGS = [
  ["fails_instruction", "Fails to follow the instruction"],
  ["inappropriate_for_customer_assistant", "Inappropriate for a customer assistant"],
  ["sexual_content", "Contains sexual content"],
  ["violent_content", "Contains violent content"],
  ["encourages_violence_abuse_terrorism_self_harm", "Encourages or fails to discourage violence, abuse, terrorism or self-harm"],
  ["denigrates_protected_class", "Denigrates a protected class"],
  ["harmful_advice", "Gives harmful advice"],
  ["expresses_moral_judgment", "Expresses moral judgment"],
];

const $ = (id) => document.getElementById(id);
const letter = (i) => String.fromCharCode(65 + i);
let token = sessionStorage.getItem("rlhf-token") || "";
let task = null;
let shownAt = 0;

function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v;
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { "Authorization": "Bearer " + token, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch { data = null; } }
  return { status: res.status, data };
}

async function login(ev) {
  ev.preventDefault();
  token = $("token").value.trim();
  const r = await api("GET", "/api/me");
  if (r.status !== 200) { $("login-error").textContent = "That token was not accepted."; return; }
  sessionStorage.setItem("rlhf-token", token);
  $("login").hidden = true;
  await loadNext();
}

async function loadNext() {
  $("message").textContent = "";
  const r = await api("GET", "/api/tasks/next");
  if (r.status === 204) { task = null; $("task").hidden = true; $("done").hidden = false; $("progress").textContent = ""; return; }
  if (r.status !== 200) { $("message").textContent = (r.data && r.data.error) || ("error " + r.status); return; }
  task = r.data;
  render();
}

function render() {
  $("done").hidden = true;
  $("task").hidden = false;
  const p = task.progress;
  $("progress").textContent = `page ${p.done + 1} / ${p.done + p.remaining}`;
  $("prompt").textContent = task.prompt;

  const outputs = $("outputs");
  outputs.replaceChildren();
  for (const r of task.responses) outputs.append(outputCard(r));

  const ranking = $("ranking");
  ranking.replaceChildren();
  for (const r of task.responses) ranking.append(rankItem(r));
  shownAt = Date.now();
  tick();
}

function outputCard(r) {
  const id = r.id, name = "Output " + letter(id);
  const ratings = el("fieldset", { class: "ratings" }, [el("legend", { text: "Rating (1 = worst, 7 = best)" })]);
  for (let v = 1; v <= 7; v++) {
    const input = el("input", { type: "radio", name: `rating-${id}`, id: `rating-${id}-${v}`, value: String(v) });
    ratings.append(el("label", { for: `rating-${id}-${v}` }, [input, " " + v]));
  }
  const flags = el("fieldset", { class: "flags" }, [el("legend", { text: "Flags" })]);
  for (const [key, text] of FLAGS) {
    const input = el("input", { type: "checkbox", id: `flag-${id}-${key}`, value: key });
    flags.append(el("label", { for: `flag-${id}-${key}` }, [input, " " + text]));
  }
  return el("article", { class: "output", id: `output-${id}` }, [
    el("h3", { text: name }),
    el("pre", { class: "text", id: `text-${id}`, text: r.text }),
    ratings, flags,
    el("label", { for: `notes-${id}`, text: `Notes on ${name}` }),
    el("textarea", { id: `notes-${id}` }),
  ]);
}

function rankItem(r) {
  const name = "Output " + letter(r.id);
  const up = el("button", { type: "button", id: `up-${r.id}`, "aria-label": `Move ${name} up`, text: "\u2191" });
  const down = el("button", { type: "button", id: `down-${r.id}`, "aria-label": `Move ${name} down`, text: "\u2193" });
  const li = el("li", { id: `rank-${r.id}`, tabindex: "0", draggable: "true", "data-id": String(r.id) }, [
    el("strong", { text: name }), el("span", { class: "snippet", text: r.text.slice(0, 120) }), up, down,
  ]);
  up.addEventListener("click", () => move(li, -1, up));
  down.addEventListener("click", () => move(li, 1, down));
  li.addEventListener("keydown", (e) => {
    if (e.target !== li || !e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    e.preventDefault();
    move(li, e.key === "ArrowUp" ? -1 : 1, li);
  });
  li.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/plain", li.dataset.id); e.dataTransfer.effectAllowed = "move"; li.classList.add("dragging"); });
  li.addEventListener("dragend", () => li.classList.remove("dragging"));
  li.addEventListener("dragover", (e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; });
  li.addEventListener("drop", (e) => {
    e.preventDefault();
    const dragged = $("rank-" + e.dataTransfer.getData("text/plain"));
    if (!dragged || dragged === li) return;
    const items = [...$("ranking").children];
    // Dropping onto an item takes its place: the others shift toward where the dragged one came from.
    if (items.indexOf(dragged) > items.indexOf(li)) li.before(dragged); else li.after(dragged);
    announce(dragged);
  });
  return li;
}

function move(li, delta, keepFocus) {
  if (delta < 0 && li.previousElementSibling) li.previousElementSibling.before(li);
  else if (delta > 0 && li.nextElementSibling) li.nextElementSibling.after(li);
  keepFocus.focus();
  announce(li);
}

function announce(li) {
  const pos = [...$("ranking").children].indexOf(li) + 1;
  $("rank-status").textContent = `${li.querySelector("strong").textContent} is now rank ${pos}`;
}

function collect() {
  const ranking = [...$("ranking").children].map((li) => Number(li.dataset.id));
  const ratings = {}, flags = {}, notes = {};
  for (const r of task.responses) {
    const checked = document.querySelector(`input[name="rating-${r.id}"]:checked`);
    if (!checked) return { error: `Please rate Output ${letter(r.id)}.` };
    ratings[r.id] = Number(checked.value);
    flags[r.id] = FLAGS.map(([k]) => k).filter((k) => $(`flag-${r.id}-${k}`).checked);
    const n = $(`notes-${r.id}`).value.trim();
    if (n) notes[r.id] = n;
  }
  return { body: { ranking, ratings, flags, notes } };
}

async function submit() {
  const { body, error } = collect();
  if (error) { $("message").textContent = error; return; }
  $("submit").disabled = true;
  try {
    const r = await api("POST", `/api/tasks/${encodeURIComponent(task.task_id)}/labels`, body);
    if (r.status === 201 || r.status === 409) await loadNext();
    else $("message").textContent = (r.data && r.data.error) || ("error " + r.status);
  } catch { $("message").textContent = "Could not reach the server; your answers are still here. Try again."; }
  finally { $("submit").disabled = false; }
}

async function skip() {
  const r = await api("POST", `/api/tasks/${encodeURIComponent(task.task_id)}/skip`);
  if (r.status === 204) await loadNext();
  else $("message").textContent = (r.data && r.data.error) || ("error " + r.status);
}

function tick() {
  if (!task) { $("elapsed").textContent = ""; return; }
  const s = Math.floor((Date.now() - shownAt) / 1000);
  $("elapsed").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", login);
  $("submit").addEventListener("click", submit);
  $("skip").addEventListener("click", skip);
  setInterval(tick, 1000);
  if (token) {
    const r = await api("GET", "/api/me");
    if (r.status === 200) { $("login").hidden = true; await loadNext(); }
  }
});
