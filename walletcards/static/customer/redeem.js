// The card page's copy buttons: shown only with JavaScript (the code is plain text anyway).
(function () {
  "use strict";
  var script = document.currentScript;
  var copied = script ? script.getAttribute("data-copied") : "";
  document.querySelectorAll("button.copy").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var label = button.textContent;
      navigator.clipboard.writeText(button.getAttribute("data-code")).then(function () {
        button.textContent = copied || label;
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
})();
