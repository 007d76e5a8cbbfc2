(function () {
  "use strict";
  var root = document.querySelector("[data-provider-filter]");
  if (!root) { return; }
  var control = root.querySelector(".provider-filter__control");
  var input = root.querySelector("input");
  var status = root.querySelector(".provider-filter__status");
  var items = Array.prototype.slice.call(root.querySelectorAll(".provider-list li"));
  var groups = Array.prototype.slice.call(root.querySelectorAll(".provider-filter__group"));
  var timer = null;
  function normalise(text) { return text.toLowerCase().replace(/\s+/g, " ").trim(); }
  function update() {
    var query = normalise(input.value);
    var shown = 0;
    items.forEach(function (item) {
      var match = query === "" || normalise(item.textContent).indexOf(query) !== -1;
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector("li:not([hidden])");
    });
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      status.textContent = query === "" ? "" :
        shown + (shown === 1 ? " provider" : " providers") + " of " + items.length + " shown";
    }, 300);
  }
  control.hidden = false;
  input.addEventListener("input", update);
}());
