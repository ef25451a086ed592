const crypto = require("crypto");
import { createHash } from "node:crypto";

function positives(password, body) {
  // ruleid: js-weak-hash-md5-sha1
  const digest = crypto.createHash("md5").update(password).digest("hex");
  // ruleid: js-weak-hash-md5-sha1
  const sig = createHash("SHA1").update(body).digest("base64");
  return [digest, sig];
}

function negatives(body, algo, key) {
  // ok: js-weak-hash-md5-sha1
  const digest = crypto.createHash("sha256").update(body).digest("hex");
  // ok: js-weak-hash-md5-sha1
  const other = createHash(algo);
  // ok: js-weak-hash-md5-sha1
  const mac = crypto.createHmac("sha256", key).update(body).digest("hex");
  return [digest, other, mac];
}
