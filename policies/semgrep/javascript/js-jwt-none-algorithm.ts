import jwt from "jsonwebtoken";
import { verify as verifyToken } from "jsonwebtoken";

export function positives(token: string, key: string) {
  // ruleid: js-jwt-none-algorithm
  const a = jwt.verify(token, key, { algorithms: ["none"] });
  // ruleid: js-jwt-none-algorithm
  const b = verifyToken(token, key, { complete: true, algorithms: ["none", "HS256"] });
  return [a, b];
}

export function negatives(token: string, key: string) {
  // ok: js-jwt-none-algorithm
  const a = jwt.verify(token, key, { algorithms: ["ES256"] });
  // ok: js-jwt-none-algorithm
  const b = verifyToken(token, key);
  return [a, b];
}
