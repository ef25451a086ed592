function positives(req, expr) {
  // ruleid: js-eval-nonliteral
  const value = eval(req.query.expr);
  // ruleid: js-eval-nonliteral
  window.eval("var x = " + expr);
  // ruleid: js-eval-nonliteral
  eval(atob("ZXZpbA=="));
  // ruleid: js-eval-nonliteral
  return eval(`(${expr})`) + value;
}

function negatives(text, engine) {
  // ok: js-eval-nonliteral
  const two = eval("1 + 1");
  // ok: js-eval-nonliteral
  const data = JSON.parse(text);
  // ok: js-eval-nonliteral
  engine.eval(text);
  return [two, data];
}
