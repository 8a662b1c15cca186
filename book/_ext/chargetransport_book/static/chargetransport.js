// chargetransport book: display equations a little wider than their box are scaled
// down to fit it (on screen to no less than 60 % of their size; wider ones scroll
// sideways, see chargetransport.css); on paper every one is scaled to fit the page.
(function () {
  "use strict";
  var SCREEN_MIN_SCALE = 0.6;

  function fitDisplayMath(minScale) {
    if (minScale === undefined) { minScale = SCREEN_MIN_SCALE; }
    var containers = document.querySelectorAll('mjx-container[display="true"]');
    containers.forEach(function (math) {
      if (math.dataset.ctFontSize === undefined) {
        math.dataset.ctFontSize = math.style.fontSize || "";
      }
      math.style.fontSize = math.dataset.ctFontSize;  // natural size first
    });
    containers.forEach(function (math) {
      var need = math.scrollWidth, have = math.clientWidth;
      if (!have || need <= have + 1) { return; }
      var scale = (have - 2) / need;
      if (scale < minScale) { return; }           // too wide: it scrolls instead
      var base = parseFloat(math.dataset.ctFontSize) || 100;
      math.style.fontSize = (base * scale).toFixed(2) + "%";
    });
  }
  window.chargetransportFitDisplayMath = fitDisplayMath;

  var timer = null;
  function refit() {
    clearTimeout(timer);
    timer = setTimeout(function () { fitDisplayMath(); }, 100);
  }
  function start() {
    var ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
    ready.then(function () { fitDisplayMath(); });
    window.addEventListener("resize", refit);
    window.addEventListener("beforeprint", function () { fitDisplayMath(0); });
    window.addEventListener("afterprint", function () { fitDisplayMath(); });
  }
  // MathJax is loaded asynchronously: by the load event it has started.
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();
