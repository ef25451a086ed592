const jwt = require("jsonwebtoken");

function currentUser(req) {
  // ruleid: js-jwt-decode-without-verify
  const claims = jwt.decode(req.headers.authorization.split(" ")[1]);
  return claims.sub;
}

const isAdmin = (req) => {
  // ruleid: js-jwt-decode-without-verify
  return jwt.decode(req.cookies.session).role === "admin";
};

class TokenService {
  roles(token) {
    // ruleid: js-jwt-decode-without-verify
    return jwt.decode(token).roles;
  }

  claims(token, key) {
    jwt.verify(token, key, { algorithms: ["RS256"] });
    // ok: js-jwt-decode-without-verify
    return jwt.decode(token);
  }
}

function verifyWithKid(token, keys) {
  // ok: js-jwt-decode-without-verify
  const decoded = jwt.decode(token, { complete: true });
  return jwt.verify(token, keys[decoded.header.kid], { algorithms: ["RS256"] });
}

const middleware = (req, res, next) => {
  const payload = jwt.verify(req.token, process.env.JWT_KEY, { algorithms: ["HS256"] });
  // ok: js-jwt-decode-without-verify
  req.header = jwt.decode(req.token, { complete: true }).header;
  req.user = payload;
  next();
};

function parseOther(codec, value) {
  // ok: js-jwt-decode-without-verify
  return codec.decode(value);
}
