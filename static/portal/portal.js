// Behaviour the templates declare with data attributes, so no page needs an inline script, style or event handler
// (the Content-Security-Policy allows scripts and styles from the portal's static files only).
//   <form data-confirm="Question?">  asks before submitting;
//   <span data-percent="42">         a progress bar's filled width.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target.closest ? event.target.closest("form[data-confirm]") : null;
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  function fill(root) {
    var bars = (root.querySelectorAll ? root : document).querySelectorAll("[data-percent]");
    if (root.matches && root.matches("[data-percent]")) { bars = [root].concat(Array.prototype.slice.call(bars)); }
    Array.prototype.forEach.call(bars, function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.percent) || 0));
      bar.style.width = percent + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { fill(document); });
  // Fragments HTMX swaps in (progress polling) carry their own bars.
  document.addEventListener("htmx:load", function (event) { fill(event.target); });
})();
