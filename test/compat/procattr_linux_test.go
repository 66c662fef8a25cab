package compat

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child get SIGKILL if the test process dies first
// (for example on a -timeout panic, where no cleanup runs), so no broker or
// client outlives the test run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
