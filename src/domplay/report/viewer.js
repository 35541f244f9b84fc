// The trajectory viewer: pick a round, a kind of episode, a task and an episode; step through it.
// All run text is inserted with textContent, never as HTML (pages and model output are untrusted).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("viewer-data").textContent);
  var episodes = data.episodes, tasks = data.tasks;
  var selRound = document.getElementById("sel-round"), selKind = document.getElementById("sel-kind");
  var selTask = document.getElementById("sel-task"), selEp = document.getElementById("sel-episode");
  var view = document.getElementById("episode");
  var SPEC_CHARS = 200;
  var state = { episode: null, step: 0 };

  function el(tag, cls) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }
  function field(label, value, cls) { return el("div", "field " + (cls || ""), el("b", null, label), value); }
  function pre(text, cls) { return el("pre", cls, text); }
  function badge(ok, text) { return el("span", "badge " + (ok ? "ok" : "fail"), text); }
  function uniq(values) { return values.filter(function (v, i) { return values.indexOf(v) === i; }); }
  function fill(select, options) {
    select.textContent = "";
    options.forEach(function (o) { var opt = el("option", null, o[1]); opt.value = o[0]; select.appendChild(opt); });
  }
  function chosen() {
    return episodes.filter(function (e) {
      return String(e.round) === selRound.value && e.kind === selKind.value;
    });
  }

  function onRound() {
    var kinds = uniq(episodes.filter(function (e) { return String(e.round) === selRound.value; })
      .map(function (e) { return e.kind; }));
    fill(selKind, kinds.map(function (k) { return [k, k]; }));
    onKind();
  }
  function onKind() {
    var ids = uniq(chosen().map(function (e) { return e.task_id; }));
    fill(selTask, ids.map(function (id) {
      var t = tasks[id] || {};
      var ok = chosen().filter(function (e) { return e.task_id === id && e.success; }).length;
      var intent = (t.intent || "").slice(0, 70);
      return [id, (ok ? "\u2713 " : "\u2717 ") + id + " \u2014 " + intent];
    }));
    onTask();
  }
  function onTask() {
    var list = chosen().filter(function (e) { return e.task_id === selTask.value; });
    fill(selEp, list.map(function (e) {
      return [e.id, e.policy + " #" + e.sample + " \u00b7 " + (e.success ? "success" : "failure") +
        " \u00b7 " + e.steps.length + " steps"];
    }));
    onEpisode();
  }
  function onEpisode() {
    state.episode = episodes.filter(function (e) { return e.id === selEp.value; })[0] || null;
    state.step = 0;
    render();
  }

  function render() {
    view.textContent = "";
    var ep = state.episode;
    if (!ep) { view.appendChild(el("p", "empty", "no episode selected")); return; }
    var t = tasks[ep.task_id] || {};
    view.appendChild(el("div", "ep-head", el("strong", null, ep.intent || t.intent || ep.task_id),
      badge(ep.success, ep.success ? "success" : "failure"),
      ep.verdict ? el("span", null, "score " + ep.verdict.score.toFixed(2)) : el("span", "badge warn", "no verdict"),
      el("span", "meta", ep.task_id + " \u00b7 " + (t.site || "?") + " \u00b7 " + (t.difficulty || "?") +
        " \u00b7 template " + (t.template || "-") + " \u00b7 " + ep.kind + " \u00b7 round " + ep.round +
        " \u00b7 policy " + ep.policy + " #" + ep.sample + " \u00b7 " + ep.env + " env \u00b7 " +
        ep.seconds.toFixed(1) + " s")));
    if (ep.status !== "done" || ep.error) {
      view.appendChild(field("episode", "status " + ep.status + (ep.error ? ": " + ep.error : ""), "error"));
    }
    var checks = el("details", null, el("summary", null, "task: start URL, checks, reference solution"),
      pre("start: " + (t.start_url || "?") + "\nchecks: " + JSON.stringify(t.checks || [], null, 1) +
        "\nreference: " + JSON.stringify(t.reference || null)));
    view.appendChild(checks);
    if (ep.plan) view.appendChild(renderPlan(ep.plan));
    if (!ep.steps.some(function (s) { return s.screenshot; })) {
      view.appendChild(el("p", "note", "No screenshots: this episode recorded none (only envs that save " +
        "screenshots, such as a recording BrowserEnv, have them)."));
    }
    var n = ep.steps.length;
    if (n === 0) {
      view.appendChild(el("p", "empty", "the episode has no steps"));
    } else {
      var prev = el("button", null, "\u2190 prev"), next = el("button", null, "next \u2192");
      prev.id = "step-prev"; next.id = "step-next";
      prev.disabled = state.step === 0; next.disabled = state.step >= n - 1;
      prev.addEventListener("click", function () { go(-1); });
      next.addEventListener("click", function () { go(1); });
      var counter = el("span", null, "step " + (state.step + 1) + " of " + n);
      counter.id = "step-counter";
      view.appendChild(el("div", "stepper", prev, counter, next));
      view.appendChild(renderStep(ep.steps[state.step]));
    }
    view.appendChild(renderVerdict(ep, t));
  }
  function go(delta) {
    var n = state.episode ? state.episode.steps.length : 0;
    var s = Math.max(0, Math.min(n - 1, state.step + delta));
    if (s !== state.step) { state.step = s; render(); }
  }

  function renderStep(s) {
    var box = el("div", "step");
    box.setAttribute("data-step", String(s.index));
    box.appendChild(field("url", s.url));
    box.appendChild(field("completion", pre(s.completion)));
    box.appendChild(field("action", s.action === null ? el("span", "error", "(did not parse)") : el("code", null, s.action)));
    if (s.error) box.appendChild(field("error", s.error, "error"));
    var extra = Object.keys(s.extra || {});
    if (extra.length) box.appendChild(field("notes", JSON.stringify(s.extra)));
    box.appendChild(field("time", "model " + s.model_seconds.toFixed(2) + " s, env " + s.env_seconds.toFixed(2) + " s"));
    box.appendChild(el("details", null, el("summary", null, "observation (" + s.observation.length + " chars)"),
      pre(s.observation)));
    if (s.screenshot) {
      var img = el("img", "shot"); img.src = s.screenshot; img.alt = "screenshot at step " + s.index;
      box.appendChild(img);
    } else if (s.screenshot_note) {
      box.appendChild(el("p", "note", s.screenshot_note));
    }
    return box;
  }

  function renderVerdict(ep, t) {
    var box = el("div", "verdict", el("h3", null, "Final verdict"));
    if (ep.final) {
      box.appendChild(field("final URL", ep.final.url));
      box.appendChild(field("answer", ep.final.answer === null ? "(none)" : ep.final.answer));
    }
    var v = ep.verdict;
    if (!v) { box.appendChild(el("p", "empty", "no verdict was recorded")); return box; }
    var line = field("verdict", badge(v.success, v.success ? "success" : "failure"));
    line.appendChild(document.createTextNode(" score " + v.score.toFixed(3) + ", verifier v" + v.verifier_version));
    box.appendChild(line);
    if (v.error) box.appendChild(field("error verdict", v.error, "error"));
    var table = el("table", "checks", el("thead", null, el("tr", null, el("th", null, "#"), el("th", null, "check"),
      el("th", null, "result"), el("th", null, "score"), el("th", null, "reason"), el("th", null, "spec"))));
    var body = el("tbody");
    v.results.forEach(function (r, i) {
      var spec = (t.checks && t.checks[i]) ? JSON.stringify(t.checks[i]) : "";
      body.appendChild(el("tr", null, el("td", null, i), el("td", null, r.kind),
        el("td", null, badge(r.passed, r.passed ? "pass" : "fail")), el("td", null, r.score.toFixed(2)),
        el("td", null, r.reason, r.error ? el("div", "error", r.error) : null),
        el("td", null, el("code", null, spec.length > SPEC_CHARS ? spec.slice(0, SPEC_CHARS) + "\u2026" : spec))));
    });
    table.appendChild(body);
    box.appendChild(el("div", "scroll", table));
    return box;
  }

  function renderPlan(plan) {
    var box = el("details", "plan", el("summary", null, "plan mode: " + (plan.subtasks || []).length +
      " subtasks, " + (plan.subtasks_done || 0) + " done, " + (plan.replans || []).length + " replan(s)"));
    box.open = true;
    var ol = el("ol");
    (plan.subtasks || []).forEach(function (s, i) {
      ol.appendChild(el("li", i < (plan.subtasks_done || 0) ? "done" : null, s + (i < (plan.subtasks_done || 0) ? " \u2713" : "")));
    });
    box.appendChild(field("plan followed", ol));
    (plan.attempts || []).forEach(function (a, k) {
      var d = el("details", null, el("summary", null, "attempt " + k + " at step " + a.step + " (" + a.reason + "): " +
        (a.candidates || []).length + " candidates, chose " + (a.chosen === null ? "none" : "#" + a.chosen)));
      (a.candidates || []).forEach(function (c, j) {
        var sc = c.scores ? ["relevance", "feasibility", "efficiency", "coverage"].map(function (name) {
          return name + " " + c.scores[name];
        }).join(", ") : "no scores";
        d.appendChild(el("div", "field", el("b", null, (j === a.chosen ? "\u2605 " : "") + "#" + j + " total " + c.total),
          c.source + ": " + sc));
        d.appendChild(pre((c.subtasks || []).map(function (s, i) { return (i + 1) + ". " + s; }).join("\n") || c.text));
      });
      box.appendChild(d);
    });
    return box;
  }

  var rounds = uniq(episodes.map(function (e) { return e.round; })).sort(function (a, b) { return a - b; });
  fill(selRound, rounds.map(function (r) { return [String(r), "round " + r]; }));
  [[selRound, onRound], [selKind, onKind], [selTask, onTask], [selEp, onEpisode]].forEach(function (p) {
    p[0].addEventListener("change", p[1]);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.target && ev.target.tagName === "SELECT") return;
    if (ev.key === "ArrowRight") go(1);
    if (ev.key === "ArrowLeft") go(-1);
  });
  if (rounds.length) onRound();
})();
