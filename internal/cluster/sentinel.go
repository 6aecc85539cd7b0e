package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the Sentinels of a cluster monitor its primary by.
const MasterName = "blindpack"

// Sentinel is Redis as production runs it when one machine must not stop a
// campaign: a primary and a replica (each with its append-only file) and
// three Sentinels that agree (quorum 2) when the primary is down and make
// the replica the new primary. Clients ask the Sentinels where the primary
// is and follow a failover.
type Sentinel struct {
	// Nodes are the data servers; Nodes[0] starts as the primary.
	Nodes []*Redis
	// Sentinels watch the nodes.
	Sentinels []*SentinelProc
}

// SentinelProc is one redis-sentinel process.
type SentinelProc struct {
	Proc
	Addr string
}

// Sentinel timing: the primary is declared down after a second without an
// answer, and a failover that stalls is tried again after ten. Production
// uses longer times (deploy/), so that a slow network does not fail over.
const (
	downAfter       = 1000 * time.Millisecond
	failoverTimeout = 10 * time.Second
)

// StartSentinel starts two Redis nodes, the second replicating the first,
// and three Sentinels monitoring them, under dir.
func StartSentinel(dir string) (*Sentinel, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w (apt-get install redis-server, or make deps)", err)
	}
	s := &Sentinel{}
	primary, err := startRedisNode(dir, "redis-1")
	if err != nil {
		return nil, err
	}
	s.Nodes = append(s.Nodes, primary)
	host, port, _ := net.SplitHostPort(primary.Addr)
	replica, err := startRedisNode(dir, "redis-2", "--replicaof", host, port)
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.Nodes = append(s.Nodes, replica)
	if err := waitReplicating(replica.Addr, 30*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	for i := 1; i <= 3; i++ {
		p, err := freePort()
		if err != nil {
			s.Stop()
			return nil, err
		}
		name := "sentinel-" + strconv.Itoa(i)
		// A Sentinel rewrites its configuration file as it learns the
		// topology, so each has its own.
		conf := filepath.Join(dir, name+".conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor %s %s %s 2\n"+
			"sentinel down-after-milliseconds %s %d\n"+
			"sentinel failover-timeout %s %d\n"+
			"sentinel parallel-syncs %s 1\n",
			p, dir, MasterName, host, port, MasterName, downAfter.Milliseconds(), MasterName, failoverTimeout.Milliseconds(), MasterName)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			s.Stop()
			return nil, err
		}
		sp := &SentinelProc{Addr: "127.0.0.1:" + strconv.Itoa(p)}
		sp.Proc = Proc{name: name, path: bin, env: cleanEnv(), logPath: filepath.Join(dir, name+".log"),
			args: []string{conf, "--sentinel"}}
		s.Sentinels = append(s.Sentinels, sp)
		if err := sp.Start(); err != nil {
			s.Stop()
			return nil, err
		}
		if err := waitPort(&sp.Proc, sp.Addr, 10*time.Second); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Addrs are the Sentinels' addresses, as --redis-sentinels takes them.
func (s *Sentinel) Addrs() []string {
	var out []string
	for _, sp := range s.Sentinels {
		out = append(out, sp.Addr)
	}
	return out
}

// PrimaryAddr asks the Sentinels where the primary is now.
func (s *Sentinel) PrimaryAddr(ctx context.Context) (string, error) {
	var errs []error
	for _, sp := range s.Sentinels {
		if !sp.Running() {
			continue
		}
		c := redis.NewSentinelClient(&redis.Options{Addr: sp.Addr})
		addr, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		c.Close()
		if err == nil && len(addr) == 2 {
			return net.JoinHostPort(addr[0], addr[1]), nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("cluster: no Sentinel names a primary: %w", errors.Join(errs...))
}

// Primary is the node the Sentinels name as primary.
func (s *Sentinel) Primary(ctx context.Context) (*Redis, error) {
	addr, err := s.PrimaryAddr(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range s.Nodes {
		if n.Addr == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("cluster: the Sentinels name %s, not one of ours", addr)
}

// WaitFailover waits until the Sentinels name a primary other than old and
// that node answers as a primary.
func (s *Sentinel) WaitFailover(ctx context.Context, old string) (string, error) {
	for {
		addr, err := s.PrimaryAddr(ctx)
		if err == nil && addr != old && role(ctx, addr) == "master" {
			return addr, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("cluster: no failover from %s: %w (last: %v)", old, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops every Sentinel and node.
func (s *Sentinel) Stop() {
	for _, sp := range s.Sentinels {
		sp.Stop(5 * time.Second)
	}
	for _, n := range s.Nodes {
		n.Stop(5 * time.Second)
	}
}

// role is what a Redis node says it is: "master", "slave", or "" when it
// does not answer.
func role(ctx context.Context, addr string) string {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	v, err := c.Do(ctx, "ROLE").Slice()
	if err != nil || len(v) == 0 {
		return ""
	}
	r, _ := v[0].(string)
	return r
}

// waitReplicating waits until a replica has synchronised with its primary.
func waitReplicating(addr string, timeout time.Duration) error {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		info, err := c.Info(context.Background(), "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: replica %s not in sync: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
