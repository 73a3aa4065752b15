// The YAML tab: a problem's "line N, column M" link puts the cursor on that line of the text and
// selects it. Without this script the link still leads to the text; nothing else depends on it.
(function () {
  "use strict";
  var text = document.getElementById("yaml");
  if (!text) { return; }
  document.querySelectorAll("a[data-line]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var lines = text.value.split("\n");
      var wanted = Math.min(Math.max(parseInt(link.getAttribute("data-line"), 10), 1), lines.length) - 1;
      var start = 0;
      for (var index = 0; index < wanted; index += 1) { start += lines[index].length + 1; }
      var column = Math.max(parseInt(link.getAttribute("data-column"), 10) - 1, 0);
      text.focus();
      text.setSelectionRange(Math.min(start + column, start + lines[wanted].length), start + lines[wanted].length);
      // Scroll the line into view: the textarea's line height times the lines above it.
      var height = parseFloat(window.getComputedStyle(text).lineHeight) || 20;
      text.scrollTop = Math.max(wanted - 3, 0) * height;
    });
  });
}());
