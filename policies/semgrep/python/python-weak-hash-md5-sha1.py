import hashlib
from hashlib import sha1


def positives(password, body):
    # ruleid: python-weak-hash-md5-sha1
    digest = hashlib.md5(password.encode()).hexdigest()
    # ruleid: python-weak-hash-md5-sha1
    signature = sha1(body).hexdigest()
    # ruleid: python-weak-hash-md5-sha1
    h = hashlib.new("MD5", body)
    return digest, signature, h


def negatives(body, path):
    # ok: python-weak-hash-md5-sha1
    digest = hashlib.sha256(body).hexdigest()
    # ok: python-weak-hash-md5-sha1
    cache_key = hashlib.md5(path.encode(), usedforsecurity=False).hexdigest()
    # ok: python-weak-hash-md5-sha1
    h = hashlib.new("sha512", body)
    # ok: python-weak-hash-md5-sha1
    etag = hashlib.new("sha1", body, usedforsecurity=False)
    return digest, cache_key, h, etag
