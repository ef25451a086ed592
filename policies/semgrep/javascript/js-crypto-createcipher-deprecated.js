const crypto = require("crypto");
import { createDecipher, createCipheriv, randomBytes } from "node:crypto";

function positives(password, data) {
  // ruleid: js-crypto-createcipher-deprecated
  const cipher = crypto.createCipher("aes-256-cbc", password);
  // ruleid: js-crypto-createcipher-deprecated
  const decipher = createDecipher("aes-256-cbc", password);
  return [cipher.update(data), decipher];
}

function negatives(key, data, lib) {
  const iv = randomBytes(12);
  // ok: js-crypto-createcipher-deprecated
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  // ok: js-crypto-createcipher-deprecated
  const decipher = crypto.createDecipheriv("aes-256-gcm", key, iv);
  // ok: js-crypto-createcipher-deprecated
  lib.createCipher(key);
  return [cipher.update(data), decipher];
}
