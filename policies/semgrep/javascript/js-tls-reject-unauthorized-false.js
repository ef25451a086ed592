const https = require("https");
const tls = require("tls");

function positives(host, options) {
  // ruleid: js-tls-reject-unauthorized-false
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
  // ruleid: js-tls-reject-unauthorized-false
  const socket = tls.connect({ host, port: 443, rejectUnauthorized: false });
  // ruleid: js-tls-reject-unauthorized-false
  options.rejectUnauthorized = false;
  // ruleid: js-tls-reject-unauthorized-false
  request({ url: `https://${host}/`, strictSSL: false });
  return [agent, socket];
}

function negatives(host, ca, options) {
  // ok: js-tls-reject-unauthorized-false
  const agent = new https.Agent({ keepAlive: true, ca });
  // ok: js-tls-reject-unauthorized-false
  const socket = tls.connect({ host, port: 443, rejectUnauthorized: true });
  // ok: js-tls-reject-unauthorized-false
  options.rejectUnauthorized = process.env.NODE_ENV !== "development" || true;
  return [agent, socket];
}
