import { Agent } from "undici";

// ruleid: js-tls-reject-unauthorized-false
export const insecure = new Agent({ connect: { rejectUnauthorized: false } });

// ok: js-tls-reject-unauthorized-false
export const secure = new Agent({ connect: { ca: process.env.CA_BUNDLE } });
