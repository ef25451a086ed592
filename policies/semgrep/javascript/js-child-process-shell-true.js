import { spawn, execFileSync } from "child_process";
const cp = require("node:child_process");

function positives(userArg, cmd) {
  // ruleid: js-child-process-shell-true
  spawn("grep", ["-r", userArg, "."], { shell: true });
  // ruleid: js-child-process-shell-true
  cp.spawnSync(cmd, { shell: true, stdio: "inherit" });
  // ruleid: js-child-process-shell-true
  execFileSync("convert", [userArg, "out.png"], { cwd: "/tmp", shell: true });
  // ruleid: js-child-process-shell-true
  cp.execFile(`${cmd} --version`, [], { shell: true });
}

function negatives(userArg) {
  // ok: js-child-process-shell-true
  spawn("grep", ["-r", userArg, "."]);
  // ok: js-child-process-shell-true
  spawn("npm", ["run", "build"], { shell: true });
  // ok: js-child-process-shell-true
  cp.spawnSync("ls -la | wc -l", { shell: true });
  // ok: js-child-process-shell-true
  execFileSync("git", ["status"], { shell: false });
  // ok: js-child-process-shell-true
  cp.execFile("make", ['all', `install`], { shell: true, env: build(userArg) }, (err) => done(err));
}
