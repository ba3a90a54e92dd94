// The imports page: shows the progress of a long upload (issue 21). The form is sent by
// XMLHttpRequest (its upload events give the bytes sent); while the server checks and posts the
// rows, GET /imports/progress/<key> gives the rows done (the key is random, chosen here). The
// answer is the usual result page, whose <main> replaces this one. Without script the form is
// posted as a plain form and the result page comes when the import is done.
(function () {
  "use strict";

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) {
      return values[name] === undefined || values[name] === null ? "" : String(values[name]);
    });
  }

  function bind() {
    var form = document.querySelector('[data-testid="import-form"]');
    var box = document.getElementById("import-progress");
    if (!form || !box || !window.FormData || !window.crypto) { return; }
    var bar = box.querySelector("progress");
    var label = box.querySelector('[data-testid="import-progress-text"]');
    var number = new Intl.NumberFormat(document.documentElement.lang === "en" ? "en-GB" : "id-ID");

    function show(text, percent) {
      label.textContent = text;
      if (percent === null || percent === undefined) { bar.removeAttribute("value"); }
      else { bar.value = percent; }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var key = randomKey();
      var data = new FormData(form);
      data.set("progress_id", key);
      var button = form.querySelector('[type="submit"]');
      if (button) { button.disabled = true; }
      box.hidden = false;
      show(format(box.dataset.uploading, { percent: 0 }), 0);
      var posting = false;
      var timer = null;

      function poll() {
        fetch("/imports/progress/" + key, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (state) {
            if (!state || !timer) { return; }
            if (state.phase === "reclose") {
              show(box.dataset.reclosing, null);
            } else {
              show(format(state.total ? box.dataset.postingOf : box.dataset.posting, {
                rows: number.format(state.rows),
                total: state.total ? number.format(state.total) : "",
                percent: state.percent
              }), state.percent);
            }
            box.setAttribute("data-rows", String(state.rows));
          })
          .catch(function () { /* the next poll tries again */ });
      }

      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable || posting) { return; }
        var percent = Math.round(e.loaded * 100 / e.total);
        show(format(box.dataset.uploading, { percent: percent }), percent);
      });
      request.upload.addEventListener("load", function () {
        posting = true;
        show(box.dataset.checking, null);
        timer = window.setInterval(poll, 700);
      });
      request.addEventListener("load", function () {
        if (timer) { window.clearInterval(timer); timer = null; }
        var page = new DOMParser().parseFromString(request.responseText, "text/html");
        var main = page.querySelector("main");
        if (!main) { document.open(); document.write(request.responseText); document.close(); return; }
        document.querySelector("main").replaceWith(main);
        if (page.title) { document.title = page.title; }
        bind();
      });
      request.addEventListener("error", function () {
        if (timer) { window.clearInterval(timer); timer = null; }
        if (button) { button.disabled = false; }
        show(box.dataset.failed, 0);
      });
      request.send(data);
    });
  }

  bind();
})();
