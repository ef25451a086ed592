function positives(id, name) {
  // ruleid: js-settimeout-string
  setTimeout("refresh()", 1000);
  // ruleid: js-settimeout-string
  setInterval("poll('" + id + "')", 5000);
  // ruleid: js-settimeout-string
  window.setTimeout(`greet("${name}")`, 10);
}

function negatives(id, handler) {
  // ok: js-settimeout-string
  setTimeout(() => poll(id), 1000);
  // ok: js-settimeout-string
  setInterval(handler, 5000);
  // ok: js-settimeout-string
  window.setTimeout(function () { poll("id-" + id); }, 10);
  // ok: js-settimeout-string
  setTimeout(() => { throw new Error(`timeout after ${id}ms`); }, 100);
  // ok: js-settimeout-string
  scheduler.setTimeout("job", 10);
}
