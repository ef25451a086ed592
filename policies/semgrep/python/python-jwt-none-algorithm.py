import jwt
from jose import jwt as jose_jwt


def positives(token, payload, key):
    # ruleid: python-jwt-none-algorithm
    claims = jwt.decode(token, key, algorithms=["HS256", "none"])
    # ruleid: python-jwt-none-algorithm
    unsigned = jwt.encode(payload, None, algorithm="none")
    # ruleid: python-jwt-none-algorithm
    other = jose_jwt.decode(token, key, algorithms="NONE")
    return claims, unsigned, other


def negatives(token, payload, key):
    # ok: python-jwt-none-algorithm
    claims = jwt.decode(token, key, algorithms=["RS256"])
    # ok: python-jwt-none-algorithm
    signed = jwt.encode(payload, key, algorithm="HS256")
    # ok: python-jwt-none-algorithm
    other = jose_jwt.decode(token, key, algorithms=["ES256"])
    return claims, signed, other
