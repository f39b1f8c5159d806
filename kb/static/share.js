/* kb share button, progressive enhancement: the plain link to the note works without this file; with it,
   a button shares the link (the Web Share API where the browser has it) or copies it. */
(function () {
  "use strict";
  var link = document.querySelector("a.share-link");
  if (!link) { return; }
  var canShare = typeof navigator.share === "function";
  var canCopy = navigator.clipboard && typeof navigator.clipboard.writeText === "function";
  if (!canShare && !canCopy) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "secondary share-button";
  button.textContent = link.getAttribute(canShare ? "data-share" : "data-copy");
  var status = document.createElement("span");
  status.setAttribute("role", "status");
  status.className = "sub";
  link.parentNode.insertBefore(button, link.nextSibling);
  link.parentNode.insertBefore(status, button.nextSibling);
  button.addEventListener("click", function () {
    var url = link.href;
    if (canShare) {
      navigator.share({title: link.getAttribute("data-title") || document.title, url: url}).catch(function () {});
      return;
    }
    navigator.clipboard.writeText(url).then(function () {
      status.textContent = " " + link.getAttribute("data-copied");
    }, function () {
      status.textContent = "";
    });
  });
}());
