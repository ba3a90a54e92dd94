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
// A select with data-append-part="name" adds a line "CODE=" for the picked code to the textarea
// named "name" in its form (the targets split: pick partners by name instead of typing codes).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker || !picker.getAttribute || !picker.hasAttribute("data-append-part")) { return; }
    var area = (picker.form || document).querySelector(
      'textarea[name="' + picker.getAttribute("data-append-part") + '"]');
    if (!area || !picker.value) { return; }
    var text = area.value.replace(/\s+$/, "");
    area.value = (text ? text + "\n" : "") + picker.value + "=";
    picker.value = "";
    area.focus();
  });
})();
