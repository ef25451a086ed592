const { spawn } = require("child_process");

function positives(args) {
  // ruleid: js-node-tls-reject-unauthorized-env
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  // ruleid: js-node-tls-reject-unauthorized-env
  process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = 0;
  // ruleid: js-node-tls-reject-unauthorized-env
  spawn("node", args, { env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: "0" } });
}

function negatives(args) {
  // ok: js-node-tls-reject-unauthorized-env
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "1";
  // ok: js-node-tls-reject-unauthorized-env
  spawn("node", args, { env: { ...process.env, NODE_EXTRA_CA_CERTS: "/etc/ssl/ca.pem" } });
  // ok: js-node-tls-reject-unauthorized-env
  const strict = process.env.NODE_TLS_REJECT_UNAUTHORIZED !== "0";
  return strict;
}
