import jinja2
from jinja2 import Environment, FileSystemLoader, select_autoescape


def positives(template_dir):
    # ruleid: python-jinja2-autoescape-disabled
    env = Environment(loader=FileSystemLoader(template_dir))
    # ruleid: python-jinja2-autoescape-disabled
    env2 = jinja2.Environment(loader=jinja2.PackageLoader("app"), autoescape=False)
    return env, env2


def negatives(template_dir, options):
    # ok: python-jinja2-autoescape-disabled
    env = Environment(loader=FileSystemLoader(template_dir), autoescape=select_autoescape())
    # ok: python-jinja2-autoescape-disabled
    env2 = jinja2.Environment(autoescape=True)
    # ok: python-jinja2-autoescape-disabled
    env3 = jinja2.Environment(**options)
    return env, env2, env3
