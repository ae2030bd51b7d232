// Keyboard triage for the inbox and a thread: j/k move, Enter opens, e marks done, r replies.
// A static file (no inline script), and only an enhancement: every action is also a link or
// a form button that works without JavaScript.
(function () {
  "use strict";

  function typing(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function listKeys(list) {
    var rows = Array.prototype.slice.call(list.querySelectorAll(".thread-row"));
    var current = -1;
    function select(index) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, index));
      rows.forEach(function (row, i) { row.classList.toggle("selected", i === current); });
      rows[current].querySelector("[data-thread-link]").focus();
    }
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.metaKey || event.ctrlKey || event.altKey) return;
      if (event.key === "j") { select(current + 1); event.preventDefault(); }
      else if (event.key === "k") { select(current - 1); event.preventDefault(); }
      else if (current >= 0 && event.key === "e") {
        rows[current].querySelector("[data-done-form]").submit();
      } else if (current >= 0 && event.key === "r") {
        window.location = rows[current].querySelector("[data-thread-link]").href + "#reply";
      }
    });
  }

  function threadKeys() {
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.metaKey || event.ctrlKey || event.altKey) return;
      var box = document.querySelector("#reply textarea");
      if (event.key === "r" && box) { box.focus(); event.preventDefault(); }
      else if (event.key === "e" && document.getElementById("done-form")) {
        document.getElementById("done-form").submit();
      }
    });
    if (window.location.hash === "#reply") {
      var box = document.querySelector("#reply textarea");
      if (box) box.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.querySelector("[data-keyboard-list]");
    if (list) listKeys(list); else threadKeys();
  });
})();
