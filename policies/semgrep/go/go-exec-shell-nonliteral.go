package runner

import (
	"context"
	"fmt"
	"os/exec"
)

func positives(ctx context.Context, host, script, branch string) error {
	// ruleid: go-exec-shell-nonliteral
	if err := exec.Command("sh", "-c", "ping -c 1 "+host).Run(); err != nil {
		return err
	}
	// ruleid: go-exec-shell-nonliteral
	cmd := exec.CommandContext(ctx, "/bin/bash", "-c", fmt.Sprintf("git checkout %s", branch))
	// ruleid: go-exec-shell-nonliteral
	out, err := exec.Command("cmd", "/C", script).Output()
	_ = out
	return cmd.Run()
}

func negatives(ctx context.Context, host, branch string) error {
	// ok: go-exec-shell-nonliteral
	if err := exec.Command("ping", "-c", "1", host).Run(); err != nil {
		return err
	}
	// ok: go-exec-shell-nonliteral
	_ = exec.CommandContext(ctx, "sh", "-c", "ls -la | wc -l").Run()
	// ok: go-exec-shell-nonliteral
	_ = exec.Command("sh", "-c", `echo "$1"`, "sh", host).Run()
	// ok: go-exec-shell-nonliteral
	return exec.CommandContext(ctx, "git", "checkout", branch).Run()
}
