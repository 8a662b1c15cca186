// chargetransport book: display equations a little wider than their box are scaled
// down to fit it (on screen to no less than 60 % of their size; wider ones scroll
// sideways, see chargetransport.css); on paper every one is scaled to fit the page.
// An inline formula that cannot wrap and is wider than its paragraph (a phone) becomes
// a box of its own that scrolls sideways (class ct-wide-inline).
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

  function blockOf(element) {
    var block = element.parentElement;
    while (block && getComputedStyle(block).display.indexOf("inline") === 0) {
      block = block.parentElement;
    }
    return block;
  }

  function fitInlineMath() {
    var inline = document.querySelectorAll('mjx-container:not([display="true"])');
    inline.forEach(function (math) { math.classList.remove("ct-wide-inline"); });
    inline.forEach(function (math) {
      var block = blockOf(math);
      if (!block) { return; }
      var box = block.getBoundingClientRect();
      var left = box.left + block.clientLeft, right = left + block.clientWidth;
      var rects = math.getClientRects();
      for (var i = 0; i < rects.length; i++) {
        if (rects[i].right > right + 1 || rects[i].left < left - 1) {
          math.classList.add("ct-wide-inline");
          return;
        }
      }
    });
  }

  function fitAll() {
    fitInlineMath();
    fitDisplayMath();
  }
  window.chargetransportFitMath = fitAll;

  var timer = null;
  function refit() {
    clearTimeout(timer);
    timer = setTimeout(fitAll, 100);
  }
  function start() {
    var ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
    ready.then(fitAll);
    window.addEventListener("resize", refit);
    window.addEventListener("beforeprint", function () { fitDisplayMath(0); });
    window.addEventListener("afterprint", fitAll);
  }
  // MathJax is loaded asynchronously: by the load event it has started.
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();
