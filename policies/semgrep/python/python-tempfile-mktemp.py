import tempfile
from tempfile import mktemp


def positives(workdir):
    # ruleid: python-tempfile-mktemp
    path = tempfile.mktemp()
    # ruleid: python-tempfile-mktemp
    report = mktemp(suffix=".json", dir=workdir)
    return path, report


def negatives(workdir):
    # ok: python-tempfile-mktemp
    fd, path = tempfile.mkstemp(suffix=".json")
    # ok: python-tempfile-mktemp
    with tempfile.NamedTemporaryFile(dir=workdir) as fh:
        fh.write(b"x")
    # ok: python-tempfile-mktemp
    tmp = tempfile.TemporaryDirectory()
    return fd, path, tmp
