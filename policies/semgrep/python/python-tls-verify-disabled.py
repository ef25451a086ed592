import httpx
import requests
from requests import get


def positives(url, payload):
    # ruleid: python-tls-verify-disabled
    requests.get(url, timeout=10, verify=False)
    # ruleid: python-tls-verify-disabled
    get(url, verify=False)
    # ruleid: python-tls-verify-disabled
    client = httpx.Client(base_url=url, verify=False)
    session = requests.Session()
    # ruleid: python-tls-verify-disabled
    session.verify = False
    # ruleid: python-tls-verify-disabled
    session.post(url, json=payload, verify=False)
    return client


def negatives(url, ca_bundle):
    # ok: python-tls-verify-disabled
    requests.get(url, timeout=10)
    # ok: python-tls-verify-disabled
    requests.get(url, verify=ca_bundle)
    # ok: python-tls-verify-disabled
    client = httpx.Client(verify=True)
    session = requests.Session()
    # ok: python-tls-verify-disabled
    session.verify = ca_bundle
    return client
