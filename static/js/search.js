/* Search box autocomplete (progressive enhancement; the form works without this file).
   Reads the suggest URL from the form's data-suggest-url attribute; CSP-safe (no inline code). */
(function () {
  "use strict";
  if (window.__gdwsSearchBox) { return; }
  window.__gdwsSearchBox = true;

  var KIND = { enterprise: "企业", platform: "平台", shop: "网店" };

  function setup(form) {
    var input = form.querySelector("input[name=q]");
    var list = form.querySelector(".suggest-list");
    var url = form.getAttribute("data-suggest-url");
    if (!input || !list || !url) { return; }
    var timer = null, active = -1, items = [], seq = 0;

    function close() {
      list.hidden = true; list.textContent = ""; items = []; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function highlight(i) {
      items.forEach(function (li, k) { li.setAttribute("aria-selected", k === i ? "true" : "false"); });
      active = i;
      if (i >= 0 && items[i]) { input.setAttribute("aria-activedescendant", items[i].id); }
    }
    function render(suggestions) {
      list.textContent = ""; items = []; active = -1;
      suggestions.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        var a = document.createElement("a");
        a.href = s.url;
        a.textContent = s.text;
        var tag = document.createElement("span");
        tag.className = "suggest-kind";
        tag.textContent = KIND[s.kind] || "";
        a.appendChild(tag);
        li.appendChild(a);
        list.appendChild(li);
        items.push(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
    }
    function fetchSuggestions() {
      var q = input.value.trim();
      if (!q) { close(); return; }
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (mine === seq) { render(data.suggestions || []); } })
        .catch(function () { close(); });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden || !items.length) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); highlight((active + 1) % items.length); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight((active - 1 + items.length) % items.length); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        window.location.href = items[active].querySelector("a").href;
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-suggest-url]"), setup);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
