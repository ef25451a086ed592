import ssl
import urllib.request


def positives(url):
    # ruleid: python-ssl-unverified-context
    ctx = ssl._create_unverified_context()
    # ruleid: python-ssl-unverified-context
    ssl._create_default_https_context = ssl._create_unverified_context
    other = ssl.create_default_context()
    # ok: python-ssl-unverified-context
    other.check_hostname = False
    # ruleid: python-ssl-unverified-context
    other.verify_mode = ssl.CERT_NONE
    return urllib.request.urlopen(url, context=ctx)


def hostname_only(url):
    ctx = ssl.create_default_context()
    # ruleid: python-ssl-unverified-context
    ctx.check_hostname = False
    return urllib.request.urlopen(url, context=ctx)


def negatives(url, cafile):
    # ok: python-ssl-unverified-context
    ctx = ssl.create_default_context(cafile=cafile)
    # ok: python-ssl-unverified-context
    ctx.verify_mode = ssl.CERT_REQUIRED
    # ok: python-ssl-unverified-context
    ctx.check_hostname = True
    return urllib.request.urlopen(url, context=ctx)
