from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def positives(comment, name):
    # ruleid: python-django-mark-safe-nonliteral
    html = mark_safe("<p>" + comment.body + "</p>")
    # ruleid: python-django-mark-safe-nonliteral
    greeting = mark_safe(f"<b>Hello {name}</b>")
    # ruleid: python-django-mark-safe-nonliteral
    raw = SafeString(comment.body)
    return html, greeting, raw


def negatives(comment, name):
    # ok: python-django-mark-safe-nonliteral
    sep = mark_safe("<hr>")
    # ok: python-django-mark-safe-nonliteral
    greeting = format_html("<b>Hello {}</b>", name)
    # ok: python-django-mark-safe-nonliteral
    body = escape(comment.body)
    return sep, greeting, body
