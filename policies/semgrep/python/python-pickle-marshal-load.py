import json
import marshal
import pickle
from pickle import loads

import pandas as pd


def positives(blob, fh, path):
    # ruleid: python-pickle-marshal-load
    obj = pickle.loads(blob)
    # ruleid: python-pickle-marshal-load
    obj = pickle.load(fh)
    # ruleid: python-pickle-marshal-load
    obj = loads(blob)
    # ruleid: python-pickle-marshal-load
    code = marshal.loads(blob)
    # ruleid: python-pickle-marshal-load
    frame = pd.read_pickle(path)
    return obj, code, frame


def negatives(obj, blob, fh):
    # ok: python-pickle-marshal-load
    data = pickle.dumps(obj)
    # ok: python-pickle-marshal-load
    parsed = json.loads(blob)
    # ok: python-pickle-marshal-load
    marshal.dump(obj, fh)
    return data, parsed
