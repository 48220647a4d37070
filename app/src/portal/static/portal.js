// The portal's only script, a progressive enhancement: a "Copy" button beside each license
// text. Without it (scripts off, an old browser) the page works as before: the text is in a
// read-only box to select, and the file can be downloaded. Loaded from our own path under a
// policy that allows no inline script; it calls nothing outside the page.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var boxes = document.querySelectorAll("textarea.blob");
  Array.prototype.forEach.call(boxes, function (box) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary copy";
    button.textContent = "Copy the license text";
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    var row = document.createElement("p");
    row.className = "copy-row";
    row.appendChild(button);
    row.appendChild(status);
    box.parentNode.insertBefore(row, box.nextSibling);

    button.addEventListener("click", function () {
      var done = function () {
        status.textContent = "Copied. Paste it into the app where it asks for a license.";
      };
      var failed = function () {
        box.focus();
        box.select();
        status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(done, failed);
      } else {
        box.focus();
        box.select();
        try {
          if (document.execCommand("copy")) {
            done();
            return;
          }
        } catch (e) {
          // Fall through: the text is selected for the buyer to copy.
        }
        failed();
      }
    });
  });
});
