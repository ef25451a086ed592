function positives(req, field) {
  // ruleid: js-new-function-nonliteral
  const fn = new Function("row", "return row." + field);
  // ruleid: js-new-function-nonliteral
  const calc = Function(req.body.formula);
  // ruleid: js-new-function-nonliteral
  const tpl = new Function("data", `return \`${req.query.template}\`;`);
  return [fn, calc, tpl];
}

function negatives(field) {
  // ok: js-new-function-nonliteral
  const fn = new Function("a", "b", "return a + b");
  // ok: js-new-function-nonliteral
  const getGlobal = Function("return this");
  // ok: js-new-function-nonliteral
  const pick = (row) => row[field];
  return [fn, getGlobal, pick];
}
