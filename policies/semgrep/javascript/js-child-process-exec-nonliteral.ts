import * as childProcess from "child_process";
import { execSync as run } from "node:child_process";

export function positives(file: string): void {
  // ruleid: js-child-process-exec-nonliteral
  childProcess.exec("cat " + file);
  // ruleid: js-child-process-exec-nonliteral
  run(`rm -rf ${file}`);
}

export function negatives(file: string, db: { exec(sql: string): void }): void {
  // ok: js-child-process-exec-nonliteral
  run("npm ci");
  // ok: js-child-process-exec-nonliteral
  db.exec(file);
}
