import yaml
from yaml import FullLoader, Loader


def positives(text, fh):
    # ruleid: python-yaml-unsafe-load
    cfg = yaml.load(text)
    # ruleid: python-yaml-unsafe-load
    cfg = yaml.load(fh, Loader=yaml.Loader)
    # ruleid: python-yaml-unsafe-load
    cfg = yaml.load(text, Loader=Loader)
    # ruleid: python-yaml-unsafe-load
    docs = list(yaml.load_all(text, FullLoader))
    # ruleid: python-yaml-unsafe-load
    obj = yaml.unsafe_load(text)
    return cfg, docs, obj


def negatives(text, fh, obj):
    # ok: python-yaml-unsafe-load
    cfg = yaml.safe_load(text)
    # ok: python-yaml-unsafe-load
    cfg = yaml.load(fh, Loader=yaml.SafeLoader)
    # ok: python-yaml-unsafe-load
    docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    # ok: python-yaml-unsafe-load
    out = yaml.safe_dump(obj)
    return cfg, docs, out
