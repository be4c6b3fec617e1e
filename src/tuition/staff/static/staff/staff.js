// Small repairs to Django's admin widgets, loaded on every staff page (no inline script).
(function () {
  "use strict";
  // The two-box picker (SelectFilter2, built on window load) labels its search icons with
  // aria-label on a plain span; give them the image role so the label is allowed.
  window.addEventListener("load", function () {
    window.setTimeout(function () {
      document.querySelectorAll(".help-tooltip[aria-label], .help-tooltip[title]").forEach(function (el) {
        el.setAttribute("role", "img");
        if (!el.getAttribute("aria-label")) el.setAttribute("aria-label", el.getAttribute("title"));
      });
    }, 0);
  });
})();
