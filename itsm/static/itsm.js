/* Progressive enhancement: every page works without this script. */
(function () {
  "use strict";

  // Countdowns to SLA due times, corrected for the difference between this clock and the server's.
  var offset = 0;
  function syncOffset(root) {
    var el = root.querySelector("[data-now]");
    if (el) { offset = Date.parse(el.getAttribute("data-now")) - Date.now(); }
  }
  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-due")) - now;
      var late = ms < 0;
      var s = Math.floor(Math.abs(ms) / 1000);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      var text = (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(sec).padStart(2, "0");
      el.textContent = (late ? "−" : "") + text;
      el.classList.toggle("late", late);
    });
  }
  syncOffset(document);
  tick();
  setInterval(tick, 1000);

  // Institution search as the agent types: fetch the results fragment, newest answer wins.
  var q = document.getElementById("q");
  var results = document.getElementById("results");
  if (q && results && q.dataset.searchUrl) {
    var timer = null, seq = 0;
    q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++seq, value = q.value.trim();
        if (!value) { results.innerHTML = ""; return; }
        fetch(q.dataset.searchUrl + "?q=" + encodeURIComponent(value), {credentials: "same-origin"})
          .then(function (r) { return r.ok || r.status === 422 ? r.text() : ""; })
          .then(function (html) { if (mine === seq) { results.innerHTML = html; } });
      }, 150);
    });
    q.form.addEventListener("submit", function (e) { e.preventDefault(); q.dispatchEvent(new Event("input")); });
  }

  // Choosing an institution fills the call form without leaving the page.
  document.addEventListener("click", function (e) {
    var pick = e.target.closest && e.target.closest("a.pick");
    var form = document.getElementById("call-form");
    if (!pick || !form) { return; }
    e.preventDefault();
    document.getElementById("institution_id").value = pick.dataset.id;
    var name = document.getElementById("institution_name");
    name.textContent = pick.dataset.name;
    name.dataset.contract = pick.dataset.contract;
    var phone = document.getElementById("reporter_phone");
    if (q && /^[\d\s()+-]{4,}$/.test(q.value.trim()) && !phone.value) { phone.value = q.value.trim(); }
    document.querySelectorAll("#configuration_item_id option[data-contract]").forEach(function (o) {
      var other = o.dataset.contract !== pick.dataset.contract;
      o.hidden = other; o.disabled = other;
      if (other && o.selected) { o.selected = false; }
    });
    document.getElementById("title").focus();
  });

  // The queue refreshes itself: only its own element is swapped.
  var queue = document.getElementById("queue");
  if (queue && queue.dataset.refreshUrl) {
    setInterval(function () {
      if (document.hidden) { return; }
      fetch(queue.dataset.refreshUrl, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { queue.innerHTML = html; syncOffset(queue); tick(); } });
    }, parseInt(queue.dataset.refreshSeconds || "15", 10) * 1000);
  }

  // Check-in: add the device position; a refusal still checks in, marked as such.
  document.querySelectorAll("form[data-geolocate]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (form.dataset.located) { return; }
      e.preventDefault();
      function send() { form.dataset.located = "1"; form.submit(); }
      if (!navigator.geolocation) { form.elements.location_refused.value = "1"; send(); return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.latitude.value = pos.coords.latitude;
        form.elements.longitude.value = pos.coords.longitude;
        form.elements.accuracy.value = pos.coords.accuracy;
        send();
      }, function () { form.elements.location_refused.value = "1"; send(); },
      {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
    });
  });

  // "Back" on an error page: the browser's own back, which keeps what was typed in the form.
  document.querySelectorAll("[data-history-back]").forEach(function (back) {
    back.hidden = false;
    back.querySelector("a").addEventListener("click", function (e) { e.preventDefault(); history.back(); });
  });

  // The checklist marks a fault as it is entered (the server decides when it is saved).
  document.querySelectorAll("#form-checklist .check-item").forEach(function (item) {
    function mark() {
      var fault = false;
      var checked = item.querySelector("input[type=radio]:checked");
      if (checked) { fault = checked.value === "fault"; }
      var number = item.querySelector(".number-input input");
      if (number && number.value.trim() !== "") {
        var v = parseFloat(number.value.trim().replace(/[，,]/, "."));
        var min = item.dataset.min, max = item.dataset.max;
        fault = !isNaN(v) && ((min !== undefined && v < parseFloat(min)) ||
                              (max !== undefined && v > parseFloat(max)));
      }
      item.classList.toggle("fault", fault);
    }
    item.addEventListener("input", mark);
    item.addEventListener("change", mark);
  });

  // A pressed button is disabled until the page changes (the server does a step once anyway).
  document.querySelectorAll("form.step-form, #call-form, #form-comment, #form-assign").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      var button = e.submitter;
      if (button && button.name) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = button.name; keep.value = button.value;
        form.appendChild(keep);
      }
      setTimeout(function () { form.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });
})();
