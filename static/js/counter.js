// Shows how many characters are left in a textarea with data-counter (the id of the
// element to write in) and data-max; the server checks the limit either way.
(function () {
  "use strict";
  function update(field) {
    var out = document.getElementById(field.getAttribute("data-counter"));
    var max = parseInt(field.getAttribute("data-max"), 10);
    if (!out || !max) return;
    var left = max - Array.from(field.value.replace(/\r\n/g, "\n")).length;
    out.textContent = left >= 0
      ? left.toLocaleString("en") + " characters left"
      : (-left).toLocaleString("en") + " characters too many";
    out.classList.toggle("counter--over", left < 0);
  }
  function updateAll() {
    document.querySelectorAll("textarea[data-counter]").forEach(update);
  }
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.matches && target.matches("textarea[data-counter]")) update(target);
  });
  document.addEventListener("DOMContentLoaded", updateAll);
  document.addEventListener("htmx:afterSettle", updateAll);
})();
