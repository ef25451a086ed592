function positives(iframe, token, buffer) {
  // ruleid: js-postmessage-wildcard-origin
  window.parent.postMessage({ type: "auth", token }, "*");
  // ruleid: js-postmessage-wildcard-origin
  iframe.contentWindow.postMessage(buffer, "*", [buffer]);
  // ruleid: js-postmessage-wildcard-origin
  window.opener.postMessage(token, { targetOrigin: "*" });
}

function negatives(iframe, token, worker) {
  // ok: js-postmessage-wildcard-origin
  window.parent.postMessage({ type: "auth", token }, "https://app.example.com");
  // ok: js-postmessage-wildcard-origin
  iframe.contentWindow.postMessage(token, window.location.origin);
  // ok: js-postmessage-wildcard-origin
  worker.postMessage(token);
}
