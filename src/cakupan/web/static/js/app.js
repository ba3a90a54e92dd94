// Site-wide behaviour without inline scripts (Content-Security-Policy: script-src 'self'):
// any element with a data-print attribute prints the page (the print stylesheet hides the rest).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
})();
// A checkbox with data-check-all="name" ticks or clears every checkbox named "name" in its form.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box || !box.getAttribute || !box.hasAttribute("data-check-all")) { return; }
    var name = box.getAttribute("data-check-all");
    var scope = box.form || document;
    scope.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });
})();
