import jwt
from jose import jwt as jose_jwt

# ruleid: python-jwt-decode-no-verify
NO_VERIFY = {"verify_exp": True, "verify_signature": False}


def positives(token, key):
    # ruleid: python-jwt-decode-no-verify
    claims = jwt.decode(token, options={"verify_signature": False})
    # ruleid: python-jwt-decode-no-verify
    legacy = jwt.decode(token, key, verify=False)
    # ruleid: python-jwt-decode-no-verify
    other = jose_jwt.decode(token, key, options={"verify_aud": False, "verify_signature": False})
    return claims, legacy, other


def negatives(token, key):
    # ok: python-jwt-decode-no-verify
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="releasegate")
    # ok: python-jwt-decode-no-verify
    header = jwt.get_unverified_header(token)
    # ok: python-jwt-decode-no-verify
    relaxed = jwt.decode(token, key, algorithms=["HS256"], options={"verify_aud": False})
    return claims, header, relaxed
