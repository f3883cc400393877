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

/* "Utiliser ma position" on the light page (/m), as progressive enhancement.
   Without JavaScript the button stays hidden and the commune field works alone.
   The browser's position is asked for only when she taps the button; it is
   rounded to 3 decimals (about 100 m), put in the form's hidden lat/lon fields
   and sent by POST with the form: never in a URL, never kept in the browser's
   storage.  Constant code: no data, no user input, no other host. */
(function () {
  "use strict";
  var d = document, w = window, geo = w.navigator && w.navigator.geolocation;
  function reveal() {
    var ids = ["use-position", "position-note"];
    for (var i = 0; i < ids.length; i++) {
      var el = d.getElementById(ids[i]);
      if (el && geo) { el.hidden = false; }
    }
  }
  function round(x) { return (Math.round(x * 1000) / 1000).toFixed(3); }
  function say(text) {
    var st = d.getElementById("position-status");
    if (st) { st.textContent = text || ""; }
  }
  d.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("#use-position") : null;
    if (!b || !geo) { return; }
    ev.preventDefault();
    var f = b.form;
    if (!f || !f.elements.lat || !f.elements.lon) { return; }
    b.disabled = true;
    say(b.getAttribute("data-locating"));
    geo.getCurrentPosition(function (pos) {
      f.elements.lat.value = round(pos.coords.latitude);
      f.elements.lon.value = round(pos.coords.longitude);
      b.disabled = false;
      say("");
      if (f.requestSubmit) { f.requestSubmit(); } else { f.submit(); }
    }, function () {
      f.elements.lat.value = "";
      f.elements.lon.value = "";
      b.disabled = false;
      say(b.getAttribute("data-failed"));
    }, { enableHighAccuracy: false, timeout: 20000, maximumAge: 60000 });
  });
  if (d.readyState === "loading") { d.addEventListener("DOMContentLoaded", reveal); } else { reveal(); }
  /* the script above swaps the page's body after a search: show the button there too */
  if (w.MutationObserver) {
    new w.MutationObserver(reveal).observe(d.documentElement, { childList: true });
  }
})();
