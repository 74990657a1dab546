package transport

import (
	"net"
	"syscall"
)

// tcpQuickAck is Linux's TCP_QUICKACK (not in package syscall).
const tcpQuickAck = 0xc

// quickAck makes c acknowledge what it reads at once. sshd sets
// TCP_NODELAY only for interactive sessions, so on an exec session a
// packet written right after another waits (Nagle) for the client's ACK
// of the first, which Linux delays by up to 40 ms: every new connection
// lost 40 ms opening its first session that way (measured against
// OpenSSH 9.2 on loopback). The kernel leaves quick-ACK mode by itself,
// hence the option is set again after every read.
func quickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{TCPConn: tc, rc: rc}
}

type quickAckConn struct {
	*net.TCPConn
	rc syscall.RawConn
}

func (c *quickAckConn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	if n > 0 {
		_ = c.rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck, 1)
		})
	}
	return n, err
}
