// The card page's "spend points online": the money value of the typed amount, live, and the
// copy buttons (shown only with JavaScript; the code is plain text anyway).
(function () {
  "use strict";
  var script = document.currentScript;
  var copied = script ? script.getAttribute("data-copied") : "";

  // points * point value in minor units, rounded down like the server (exact: BigInt)
  function valueMinor(points, pointValue, exponent) {
    var parts = pointValue.split(".");
    var decimals = parts.length > 1 ? parts[1].length : 0;
    var numerator = BigInt(parts[0] + (parts[1] || ""));
    var scale = BigInt(10) ** BigInt(decimals);
    return (BigInt(points) * numerator * BigInt(10) ** BigInt(exponent)) / scale;
  }

  var input = document.getElementById("points-input");
  var output = document.getElementById("points-value");
  if (input && output && typeof BigInt === "function") {
    var pointValue = input.getAttribute("data-point-value") || "";
    var exponent = parseInt(input.getAttribute("data-exponent"), 10);
    var format = null;
    try {
      format = new Intl.NumberFormat(input.getAttribute("data-locale") || undefined, {
        style: "currency",
        currency: input.getAttribute("data-currency"),
        minimumFractionDigits: exponent,
        maximumFractionDigits: exponent
      });
    } catch (ignored) { format = null; }
    var show = function () {
      var text = input.value.trim();
      var low = parseInt(input.min, 10);
      var high = parseInt(input.max, 10);
      var points = /^[0-9]{1,19}$/.test(text) ? parseInt(text, 10) : NaN;
      if (!(points >= low && points <= high)) {  // not an amount the form takes: no value
        output.textContent = "";
        return;
      }
      var minor = valueMinor(text, pointValue, exponent);
      output.textContent = "= " + format.format(Number(minor) / Math.pow(10, exponent));
    };
    if (format && /^[0-9]+(\.[0-9]+)?$/.test(pointValue) && exponent >= 0) {
      input.addEventListener("input", show);
      show();
    }
  }

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
