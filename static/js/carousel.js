/* Home page focus carousel: progressive enhancement of a CSS scroll-snap strip.
   Without JavaScript the strip scrolls by touch and the dots are plain anchor links.
   With it: previous/next buttons, the current dot marked, and a gentle auto-advance that
   stops on hover, focus or touch and never runs for users who prefer reduced motion. */
(function () {
  "use strict";
  function setup(root) {
    var track = root.querySelector(".carousel-track");
    var slides = track ? track.querySelectorAll(".carousel-slide") : [];
    if (!track || slides.length < 2) { return; }
    var dots = root.querySelectorAll(".carousel-dots a");
    var current = 0;
    var paused = false;

    function go(i) {
      current = (i + slides.length) % slides.length;
      track.scrollTo({ left: slides[current].offsetLeft - track.offsetLeft, behavior: "smooth" });
    }
    function mark() {
      var best = 0, bestDist = Infinity;
      for (var i = 0; i < slides.length; i++) {
        var d = Math.abs(slides[i].offsetLeft - track.offsetLeft - track.scrollLeft);
        if (d < bestDist) { bestDist = d; best = i; }
      }
      current = best;
      for (var j = 0; j < dots.length; j++) {
        if (j === best) { dots[j].setAttribute("aria-current", "true"); }
        else { dots[j].removeAttribute("aria-current"); }
      }
    }
    function button(label, cls, delta) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "carousel-btn " + cls;
      b.setAttribute("aria-label", label);
      b.textContent = delta < 0 ? "\u2039" : "\u203a";
      b.addEventListener("click", function () { go(current + delta); });
      root.appendChild(b);
    }
    button("上一项", "carousel-prev", -1);
    button("下一项", "carousel-next", 1);
    for (var k = 0; k < dots.length; k++) {
      (function (idx) {
        dots[idx].addEventListener("click", function (ev) { ev.preventDefault(); go(idx); });
      })(k);
    }
    var t = null;
    track.addEventListener("scroll", function () { clearTimeout(t); t = setTimeout(mark, 80); }, { passive: true });
    ["mouseenter", "focusin", "touchstart"].forEach(function (ev) {
      root.addEventListener(ev, function () { paused = true; }, { passive: true });
    });
    root.addEventListener("mouseleave", function () { paused = false; });
    mark();
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (!reduce) {
      setInterval(function () { if (!paused && !document.hidden) { go(current + 1); } }, 6000);
    }
  }
  var roots = document.querySelectorAll("[data-carousel]");
  for (var i = 0; i < roots.length; i++) { setup(roots[i]); }
})();
