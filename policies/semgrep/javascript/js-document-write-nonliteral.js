function positives(params, user) {
  // ruleid: js-document-write-nonliteral
  document.write("<h1>Welcome " + user.name + "</h1>");
  // ruleid: js-document-write-nonliteral
  document.writeln(`<a href="${params.get("next")}">continue</a>`);
  // ruleid: js-document-write-nonliteral
  window.document.write(location.hash);
}

function negatives(user, logger) {
  // ok: js-document-write-nonliteral
  document.write("<p>Loading…</p>");
  // ok: js-document-write-nonliteral
  document.querySelector("h1").textContent = user.name;
  // ok: js-document-write-nonliteral
  logger.write(user.name);
}
