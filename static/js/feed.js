// Live feed: opens the page's Server-Sent Events stream and puts each new line on top.
// Without this script the page is a plain list with a refresh link.
(function () {
  "use strict";
  document.querySelectorAll("[data-feed-stream]").forEach(function (list) {
    if (!window.EventSource) return;
    var limit = parseInt(list.getAttribute("data-feed-limit") || "50", 10);
    var url = list.getAttribute("data-feed-stream") + "?after=" + encodeURIComponent(list.getAttribute("data-feed-after") || "0");
    var source = new EventSource(url);
    source.addEventListener("feed", function (message) {
      var line = JSON.parse(message.data);
      if (list.querySelector('[data-id="' + line.id + '"]')) return;
      var empty = list.querySelector(".feed-empty");
      if (empty) empty.remove();
      var item = document.createElement("li");
      item.className = "feed-line new kind-" + line.kind;
      item.setAttribute("data-id", line.id);
      var badge = document.createElement("span");
      badge.className = "badge kind-" + line.kind;
      badge.textContent = line.kind_label;
      var link = document.createElement("a");
      link.href = line.url;
      link.textContent = line.title;
      item.append(badge, " ", link);
      if (line.detail) {
        var detail = document.createElement("span");
        detail.className = "muted small";
        detail.textContent = " " + line.detail;
        item.append(detail);
      }
      var when = document.createElement("time");
      when.className = "muted small";
      when.dateTime = line.occurred_at;
      when.textContent = " " + new Date(line.occurred_at).toLocaleTimeString();
      item.append(when);
      list.prepend(item);
      while (list.children.length > limit) list.lastElementChild.remove();
    });
  });
})();
