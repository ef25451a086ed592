import ast


def positives(request, expr, source):
    # ruleid: python-eval-exec-nonliteral
    value = eval(request.args["expr"])
    # ruleid: python-eval-exec-nonliteral
    exec(source, {"__builtins__": {}})
    # ruleid: python-eval-exec-nonliteral
    result = eval(f"{expr} + 1")
    # ruleid: python-eval-exec-nonliteral
    exec(compile(source, "<string>", "exec"))
    return value, result


def negatives(expr, engine):
    # ok: python-eval-exec-nonliteral
    limit = eval("10 ** 6")
    # ok: python-eval-exec-nonliteral
    exec("import this")
    # ok: python-eval-exec-nonliteral
    data = ast.literal_eval(expr)
    # ok: python-eval-exec-nonliteral
    engine.eval(expr)
    return limit, data
