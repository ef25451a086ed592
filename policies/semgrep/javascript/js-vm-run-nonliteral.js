const vm = require("vm");
import { Script } from "node:vm";

function positives(req, sandbox) {
  // ruleid: js-vm-run-nonliteral
  vm.runInNewContext(req.body.expression, sandbox);
  // ruleid: js-vm-run-nonliteral
  const script = new vm.Script("return " + req.query.code);
  // ruleid: js-vm-run-nonliteral
  new Script(`(${req.body.fn})()`).runInThisContext();
  // ruleid: js-vm-run-nonliteral
  vm.runInThisContext(req.body.code);
  return script;
}

function negatives(sandbox, engine, code) {
  // ok: js-vm-run-nonliteral
  vm.runInNewContext("1 + 1", sandbox);
  // ok: js-vm-run-nonliteral
  const script = new vm.Script("globalThis.ready = true");
  // ok: js-vm-run-nonliteral
  engine.runInNewContext(code);
  // ok: js-vm-run-nonliteral
  vm.runInNewContext("result = compute(input)", makeSandbox(code), { timeout: 50 });
  return script;
}
