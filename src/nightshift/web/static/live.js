// Live updates over the investigation's server-sent events. Everything is
// inserted with textContent: text from tools and logs never becomes markup.
// Without JavaScript the pages read the same; a reload shows what is new.
"use strict";
(function () {
  var TERMINAL = ["succeeded", "escalated", "failed", "cancelled", "deadline_exceeded"];

  function short(kind, data) {
    if (kind === "status") return (data.status || "") + " " + (data.reason || "");
    if (data.intent) return (data.tool || "") + ": " + data.intent;
    if (data.reason && data.tool) return data.tool + " " + JSON.stringify(data.params || {}) + ": " + data.reason;
    if (data.summary) return (data.tool || "") + ": " + data.summary;
    return JSON.stringify(data);
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function follow(id, after, onEvent) {
    var source = new EventSource("/investigations/" + encodeURIComponent(id) + "/events?after=" + after);
    var handler = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      onEvent(ev);
      if (ev.kind === "status" && TERMINAL.indexOf(ev.data.status) >= 0) source.close();
    };
    // Named SSE events reach only listeners for their name (EventSource has no wildcard).
    source.addEventListener("message", handler);
    ["status", "investigation.started", "hypothesis.created", "hypothesis.updated",
     "hypothesis.confirmed", "hypothesis.rejected", "tool.requested", "tool.answered",
     "cycle.finished", "breaker.tripped", "budget.exhausted", "action.proposed",
     "policy.decision", "result", "log", "llm.call", "llm.consulted"].forEach(function (k) { source.addEventListener(k, handler); });
    return source;
  }

  function detail() {
    var facts = document.getElementById("facts");
    if (!facts || !facts.dataset.live) return;
    var body = document.getElementById("timeline");
    var status = document.getElementById("inv-status");
    follow(facts.dataset.inv, facts.dataset.after || "0", function (ev) {
      var row = document.createElement("tr");
      var text = short(ev.kind, ev.data || {}).replace(/\s+/g, " ");
      cell(row, String(ev.seq));
      cell(row, (ev.at || "").slice(11, 19));
      cell(row, ev.kind);
      cell(row, text.length > 240 ? text.slice(0, 239) + "\u2026" : text);
      body.appendChild(row);
      if (ev.kind === "status") {
        status.textContent = ev.data.status;
        status.className = "status s-" + ev.data.status;
        // The tree, chain and evidence are rendered by the server from the result.
        if (TERMINAL.indexOf(ev.data.status) >= 0) window.location.reload();
      }
    });
  }

  // A browser keeps at most six HTTP/1.1 connections per host: following many
  // streams would starve navigation, so past a few the list just reloads.
  var MAX_STREAMS = 3;

  function list() {
    var rows = document.querySelectorAll("#investigations tr[data-live]");
    if (rows.length > MAX_STREAMS) {
      window.setTimeout(function () { window.location.reload(); }, 10000);
      return;
    }
    Array.prototype.forEach.call(rows, function (row) {
      var td = row.querySelector("td.status");
      follow(row.dataset.inv, "0", function (ev) {
        if (ev.kind !== "status") return;
        td.textContent = ev.data.status;
        td.className = "status s-" + ev.data.status;
        if (TERMINAL.indexOf(ev.data.status) >= 0) window.location.reload();
      });
    });
  }

  // Evidence text past the page's inline budget is fetched when its row is
  // unfolded, as plain text (textContent: it never becomes markup).
  function onDemand() {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-src]"), function (d) {
      d.addEventListener("toggle", function () {
        if (!d.open || d.dataset.loaded) return;
        d.dataset.loaded = "1";
        var pre = d.querySelector("pre");
        fetch(d.dataset.src, { credentials: "same-origin" }).then(function (r) {
          return r.ok ? r.text() : Promise.reject(new Error(String(r.status)));
        }).then(function (text) {
          pre.textContent = text;
        }, function () { delete d.dataset.loaded; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { detail(); list(); onDemand(); });
})();
