package kcpsemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// Server is an Emulator served over HTTP on loopback.
type Server struct {
	*Emulator
	// Endpoint is the API URL: http://127.0.0.1:<port>/client/api.
	Endpoint string
	// Addr is 127.0.0.1:<port>.
	Addr string
	srv  *http.Server
	done chan struct{}
}

// Start serves a new emulator built from cfg on addr ("" picks a free port
// on 127.0.0.1). Only loopback addresses are accepted.
func Start(cfg Config, addr string) (*Server, error) {
	e, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return Serve(e, addr)
}

// Serve serves e on addr ("" picks a free port on 127.0.0.1).
func Serve(e *Emulator, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("kcpsemu: refusing to listen on %s: loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Emulator: e, Addr: ln.Addr().String(), done: make(chan struct{}),
		srv: &http.Server{Handler: e, ReadHeaderTimeout: 30 * time.Second, ErrorLog: quietLog()}}
	s.Endpoint = "http://" + s.Addr + "/client/api"
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}

// StartT starts a server for a test and stops it at cleanup. A nil cfg
// means DefaultConfig() with the given time scale left as is.
func StartT(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg, "")
	if err != nil {
		t.Fatalf("kcpsemu: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
