package mysql

import (
	"context"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

var lookPath = osexec.LookPath

// startScratchServer runs a throwaway mariadbd with the given options on a
// free port and returns the port; the server is killed at the end of the test.
func startScratchServer(t *testing.T, opts ...string) int {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	install := osexec.CommandContext(ctx, "mariadb-install-db", "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("mariadb-install-db: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := append([]string{"--no-defaults", "--datadir=" + data, "--bind-address=127.0.0.1", "--port=" + itoa(port),
		"--socket=" + filepath.Join(dir, "sock"), "--pid-file=" + filepath.Join(dir, "pid")}, opts...)
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	srv := osexec.Command("mariadbd", args...)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := client.ConnectWithTimeout("127.0.0.1:"+itoa(port), "root", "", "", time.Second)
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("scratch mariadbd did not accept connections: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling readiness of a starting server
	}
}
