import paramiko
from paramiko.client import WarningPolicy


def positives(host):
    client = paramiko.SSHClient()
    # ruleid: python-paramiko-auto-add-policy
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    # ruleid: python-paramiko-auto-add-policy
    client.set_missing_host_key_policy(WarningPolicy)
    client.connect(host)


def negatives(host, known_hosts):
    client = paramiko.SSHClient()
    # ok: python-paramiko-auto-add-policy
    client.load_host_keys(known_hosts)
    # ok: python-paramiko-auto-add-policy
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(host)
