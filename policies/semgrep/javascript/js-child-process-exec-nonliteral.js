const cp = require("child_process");
const { exec, execFile } = require("node:child_process");

function positives(req, branch) {
  // ruleid: js-child-process-exec-nonliteral
  cp.exec("git log " + branch, (err, out) => console.log(out));
  // ruleid: js-child-process-exec-nonliteral
  exec(`tar -xzf ${req.query.file}`);
  // ruleid: js-child-process-exec-nonliteral
  const out = require("child_process").execSync(req.body.cmd, { encoding: "utf8" });
  return out;
}

function negatives(branch, runner) {
  // ok: js-child-process-exec-nonliteral
  cp.exec("git status --short");
  // ok: js-child-process-exec-nonliteral
  exec(`ls -la`);
  // ok: js-child-process-exec-nonliteral
  execFile("git", ["log", branch]);
  // ok: js-child-process-exec-nonliteral
  runner.exec(branch);
  // ok: js-child-process-exec-nonliteral
  cp.exec("git fetch --all", { cwd: branch }, (err, out) => report(err, out));
}
