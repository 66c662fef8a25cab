package broker

import "testing"

// TestCloseTwice: closing a server twice is harmless (test cleanups and
// shutdown paths may both close it).
func TestCloseTwice(t *testing.T) {
	s, _ := startServer(t, Config{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
