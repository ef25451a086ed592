const jwt = require("jsonwebtoken");

function positives(token, payload, key) {
  // ruleid: js-jwt-none-algorithm
  const claims = jwt.verify(token, key, { algorithms: ["HS256", "none"] });
  // ruleid: js-jwt-none-algorithm
  const unsigned = jwt.sign(payload, null, { algorithm: "none" });
  return [claims, unsigned];
}

function negatives(token, payload, key) {
  // ok: js-jwt-none-algorithm
  const claims = jwt.verify(token, key, { algorithms: ["RS256"] });
  // ok: js-jwt-none-algorithm
  const signed = jwt.sign(payload, key, { algorithm: "HS256", expiresIn: "1h" });
  return [claims, signed];
}
