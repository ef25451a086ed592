const express = require("express");
const escapeRegExp = require("lodash/escapeRegExp");

const app = express();

app.get("/search", (req, res) => {
  // ruleid: js-regexp-from-request
  const re = new RegExp(req.query.q, "i");
  res.json(items.filter((item) => re.test(item.name)));
});

app.post("/filter", (req, res) => {
  const pattern = "^" + req.body.prefix;
  // ruleid: js-regexp-from-request
  const re = RegExp(pattern);
  res.json(items.filter((item) => re.test(item.name)));
});

app.get("/safe", (req, res) => {
  // ok: js-regexp-from-request
  const re = new RegExp(escapeRegExp(req.query.q), "i");
  // ok: js-regexp-from-request
  const fixed = new RegExp("^[a-z0-9-]+$");
  res.json({ ok: fixed.test(req.query.q) && re.test("x") });
});

function fromConfig(config) {
  // ok: js-regexp-from-request
  return new RegExp(config.allowedOrigins);
}
