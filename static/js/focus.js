// After htmx swaps part of a page in place, keyboard focus would fall to the top of the
// page (the button pressed is gone). Move it to the result the new content marks with
// data-focus-after-swap (a confirmation, or a summary of what to fix), and say that
// result in the page's live region (#live-status, there since the page loaded: screen
// readers announce changes to a region they know, not always a new element).
// Without JavaScript the same elements carry autofocus, so the full page opens on them.
(function () {
  "use strict";
  var SELECTOR = "[data-focus-after-swap]";
  function announce(text) {
    var live = document.getElementById("live-status");
    if (!live) return;
    live.textContent = "";
    // A fresh change, even when the words are the same as last time.
    window.setTimeout(function () { live.textContent = text; }, 50);
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.elt;
    if (!swapped || !swapped.isConnected) return;
    var target = swapped.matches(SELECTOR) ? swapped : swapped.querySelector(SELECTOR);
    if (!target) return;
    if (!target.hasAttribute("tabindex") && target.tabIndex < 0) target.setAttribute("tabindex", "-1");
    target.focus();
    announce((target.getAttribute("data-announce") || target.textContent).replace(/\s+/g, " ").trim());
  });
})();
