// The campaign page's live part: fetched again every 10 seconds and put in place, so an official sees
// new answers without reloading. No library: the server renders the HTML, this only swaps it in.
(function () {
  "use strict";
  var region = document.querySelector("[data-live]");
  if (!region) { return; }
  var refresh = function () {
    fetch(region.getAttribute("data-live"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { region.innerHTML = html; } })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  };
  window.setInterval(refresh, 10000);
  region.addEventListener("outreach:refresh", refresh);
}());
