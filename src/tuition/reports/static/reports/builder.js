// Drag and drop for the report builder's columns. The page works without it: each row's
// arrow buttons move a column (a plain GET form). Dropping a row reorders the list and the
// hidden "columns" inputs the Preview, Download and Save forms send.
(function () {
  "use strict";
  var list, dragged;

  function syncInputs() {
    var keys = Array.prototype.map.call(list.querySelectorAll("li[data-key]"), function (li) {
      return li.getAttribute("data-key");
    });
    ["#column-inputs", "#save-form .save-columns"].forEach(function (selector) {
      var box = document.querySelector(selector);
      if (!box) return;
      box.textContent = "";
      keys.forEach(function (key) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "columns";
        input.value = key;
        box.appendChild(input);
      });
    });
    Array.prototype.forEach.call(list.querySelectorAll("li[data-key]"), function (li, i, all) {
      var pos = li.querySelector(".rb-pos");
      if (pos) pos.textContent = String(i + 1);
      var up = li.querySelector('button[value^="up:"]');
      var down = li.querySelector('button[value^="down:"]');
      if (up) up.disabled = i === 0;
      if (down) down.disabled = i === all.length - 1;
    });
  }

  function clearMarks() {
    Array.prototype.forEach.call(list.querySelectorAll(".drop-before, .drop-after"), function (li) {
      li.classList.remove("drop-before", "drop-after");
    });
  }

  function after(li, event) {
    var box = li.getBoundingClientRect();
    return event.clientY > box.top + box.height / 2;
  }

  document.addEventListener("DOMContentLoaded", function () {
    list = document.getElementById("chosen-columns");
    if (!list) return;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("li[data-key]");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.getAttribute("data-key"));
    });
    list.addEventListener("dragover", function (event) {
      var li = event.target.closest("li[data-key]");
      if (!dragged || !li || li === dragged) return;
      event.preventDefault();
      clearMarks();
      li.classList.add(after(li, event) ? "drop-after" : "drop-before");
    });
    list.addEventListener("dragleave", function (event) {
      if (!list.contains(event.relatedTarget)) clearMarks();
    });
    list.addEventListener("drop", function (event) {
      var li = event.target.closest("li[data-key]");
      event.preventDefault();
      clearMarks();
      if (!dragged || !li || li === dragged) return;
      list.insertBefore(dragged, after(li, event) ? li.nextSibling : li);
      syncInputs();
    });
    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      clearMarks();
    });
  });
})();
