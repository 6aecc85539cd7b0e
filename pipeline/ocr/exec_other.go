//go:build !unix

package ocr

import "os/exec"

// ownProcessGroup leaves cmd as it is where process groups do not exist:
// exec.CommandContext already kills the process itself on cancel.
func ownProcessGroup(cmd *exec.Cmd) {}
