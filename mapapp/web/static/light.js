/* Quick exit and one-entry history for the light page (/m).  Constant code:
   no data, no user input.  Without JavaScript the page works the same, and
   the quick exit is a plain link. */
(function () {
  "use strict";
  var d = document, w = window, ID = "mapapp-quick-exit", presses = [];
  function leave(ev) {
    var a = d.getElementById(ID);
    if (ev) { ev.preventDefault(); }
    try { w.localStorage.clear(); } catch (e) {}
    try { w.sessionStorage.clear(); } catch (e) {}
    try { d.title = ""; d.body.style.visibility = "hidden"; } catch (e) {}
    /* replace: the page leaves the history, Back does not return to it */
    w.location.replace(a ? a.href : "https://www.google.com/search?q=meteo");
  }
  function ours(url) {
    return url.origin === w.location.origin &&
      (url.pathname === "/m" || url.pathname.indexOf("/m/") === 0);
  }
  /* the list pages are swapped in place; the map page loads its own scripts */
  function swappable(url) {
    return url.origin === w.location.origin && (url.pathname === "/m" || url.pathname === "/m/en");
  }
  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    d.title = doc.title;
    d.documentElement.lang = doc.documentElement.lang;
    d.body.replaceWith(d.adoptNode(doc.body));
    w.scrollTo(0, 0);
    var h = d.querySelector("h1");
    if (h) { h.setAttribute("tabindex", "-1"); h.focus(); }
  }
  d.addEventListener("click", function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest("a") : null;
    if (!a) { return; }
    if (a.id === ID) { leave(ev); return; }
    /* moving inside the page replaces the history entry instead of adding one */
    if (ours(a) && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey) {
      ev.preventDefault();
      w.location.replace(a.href);
    }
  });
  d.addEventListener("submit", function (ev) {
    var f = ev.target, body;
    if (!w.fetch || !w.DOMParser || !swappable(new URL(f.action))) { return; }
    ev.preventDefault();
    try { body = new FormData(f, ev.submitter); } catch (e) { body = new FormData(f); }
    w.fetch(f.action, {
      method: "POST", body: new URLSearchParams(body), cache: "no-store",
      credentials: "omit", referrerPolicy: "no-referrer", redirect: "error"
    }).then(function (r) {
      if (!r.ok && r.status !== 400) { throw new Error(String(r.status)); }
      return r.text();
    }).then(swap, function () { f.submit(); });
  });
  d.addEventListener("keydown", function (e) {
    if (e.key !== "Shift" || e.repeat) { return; }
    var el = d.activeElement, tag = el && el.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA") { return; }
    var now = Date.now();
    presses = presses.filter(function (x) { return now - x < 2000; });
    presses.push(now);
    if (presses.length >= 3) { leave(); }
  }, true);
})();
