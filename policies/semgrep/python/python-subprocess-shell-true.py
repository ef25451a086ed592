import subprocess
from subprocess import Popen, check_output


def positives(user_dir, cmd, name):
    # ruleid: python-subprocess-shell-true
    subprocess.run("ls -la " + user_dir, shell=True, check=True)
    # ruleid: python-subprocess-shell-true
    subprocess.call(f"tar czf out.tgz {user_dir}", shell=True)
    # ruleid: python-subprocess-shell-true
    Popen(cmd, shell=True)
    # ruleid: python-subprocess-shell-true
    check_output("grep %s /etc/hosts" % name, shell=True, text=True)
    # ruleid: python-subprocess-shell-true
    subprocess.check_call(args="echo {}".format(name), shell=True)


def negatives(user_dir, cmd):
    # ok: python-subprocess-shell-true
    subprocess.run(["ls", "-la", user_dir], check=True)
    # ok: python-subprocess-shell-true
    subprocess.run("ls -la | wc -l", shell=True)
    # ok: python-subprocess-shell-true
    subprocess.Popen(cmd, shell=False)
    # ok: python-subprocess-shell-true
    check_output(["git", "rev-parse", "HEAD"])
