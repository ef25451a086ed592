function positives(user) {
  // ruleid: js-insecure-random-token
  const resetToken = Math.random().toString(36).slice(2);
  // ruleid: js-insecure-random-token
  user.sessionId = Math.floor(Math.random() * 1e16).toString(16);
  // ruleid: js-insecure-random-token
  let otp = String(Math.floor(100000 + Math.random() * 900000));
  return [resetToken, otp];
}

// ruleid: js-insecure-random-token
const generateApiKey = () => Math.random().toString(36).substring(2, 15);

function createCsrfToken() {
  // ruleid: js-insecure-random-token
  return Math.random().toString(16).slice(2);
}

function negatives(items) {
  // ok: js-insecure-random-token
  const resetToken = crypto.randomUUID();
  // ok: js-insecure-random-token
  const jitterMs = Math.random() * 250;
  // ok: js-insecure-random-token
  const item = items[Math.floor(Math.random() * items.length)];
  // ok: js-insecure-random-token
  const footprint = Math.random();
  return [resetToken, jitterMs, item, footprint];
}

function shuffleDeck(deck) {
  // ok: js-insecure-random-token
  return deck.sort(() => Math.random() - 0.5);
}
