package transport

import (
	"net"
	"syscall"
	"testing"
)

// The connection behind SSH acknowledges each read at once (see quickAck).
func TestQuickAckAfterRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write([]byte("hello"))
		buf := make([]byte, 1)
		_, _ = c.Read(buf) // until the client closes
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := quickAck(raw)
	defer c.Close()
	if _, ok := c.(*quickAckConn); !ok {
		t.Fatalf("quickAck returned %T", c)
	}
	rc, err := raw.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	quick := func() int {
		var v int
		var gerr error
		if err := rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck) }); err != nil {
			t.Fatal(err)
		}
		if gerr != nil {
			t.Fatal(gerr)
		}
		return v
	}
	// switch it off, then a read must switch it on again
	if err := rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck, 0) }); err != nil {
		t.Fatal(err)
	}
	if quick() != 0 {
		t.Fatal("TCP_QUICKACK still set after clearing it")
	}
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if quick() != 1 {
		t.Error("TCP_QUICKACK not set after a read")
	}
}
