import jwt from "jsonwebtoken";
import { decode } from "jsonwebtoken";

export function subject(token: string): string | undefined {
  // ruleid: js-jwt-decode-without-verify
  const payload = jwt.decode(token) as { sub?: string } | null;
  return payload?.sub;
}

export function expiry(token: string): number | undefined {
  // ruleid: js-jwt-decode-without-verify
  return (decode(token) as { exp?: number } | null)?.exp;
}

export function checked(token: string, key: string): unknown {
  const verified = jwt.verify(token, key, { algorithms: ["HS256"] });
  // ok: js-jwt-decode-without-verify
  const header = jwt.decode(token, { complete: true })?.header;
  return { verified, header };
}

export function other(buf: { decode(x: string): string }, s: string): string {
  // ok: js-jwt-decode-without-verify
  return buf.decode(s);
}
