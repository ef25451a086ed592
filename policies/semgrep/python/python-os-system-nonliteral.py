import os
import subprocess
from os import system


def positives(host, path, cmd):
    # ruleid: python-os-system-nonliteral
    os.system("ping -c 1 " + host)
    # ruleid: python-os-system-nonliteral
    output = os.popen(f"cat {path}").read()
    # ruleid: python-os-system-nonliteral
    system(cmd)
    # ruleid: python-os-system-nonliteral
    subprocess.getoutput("du -sh %s" % path)
    return output


def negatives(host):
    # ok: python-os-system-nonliteral
    os.system("clear")
    # ok: python-os-system-nonliteral
    os.popen("uname -a").read()
    # ok: python-os-system-nonliteral
    subprocess.run(["ping", "-c", "1", host], check=False)
    # ok: python-os-system-nonliteral
    subprocess.getoutput("date")
