import random
import secrets
import string
from random import choices

ALPHABET = string.ascii_letters + string.digits


def positives(user):
    # ruleid: python-insecure-random-token
    reset_token = "".join(random.choice(ALPHABET) for _ in range(32))
    # ruleid: python-insecure-random-token
    user.api_key = "%032x" % random.getrandbits(128)
    # ruleid: python-insecure-random-token
    otp = random.randint(100000, 999999)
    return reset_token, otp


def generate_password(length=16):
    # ruleid: python-insecure-random-token
    return "".join(choices(ALPHABET, k=length))


def negatives(items):
    # ok: python-insecure-random-token
    reset_token = secrets.token_urlsafe(32)
    # ok: python-insecure-random-token
    jitter = random.uniform(0.5, 1.5)
    # ok: python-insecure-random-token
    sample = random.sample(items, 3)
    # ok: python-insecure-random-token
    footprint = random.randint(1, 10)
    # ok: python-insecure-random-token
    password = "".join(secrets.choice(ALPHABET) for _ in range(20))
    return reset_token, jitter, sample, password, footprint


def pick_shard(shards):
    # ok: python-insecure-random-token
    return random.choice(shards)
