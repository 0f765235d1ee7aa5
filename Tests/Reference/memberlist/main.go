// Command memberlist-reference measures HashiCorp memberlist (DefaultLANConfig) the same
// way livebuild's MembershipBenchmark measures clusterd: join time ("from agent start to
// being listed by every peer") and failure-detection time after a crash, all nodes in one
// process on 127.0.0.1.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

const phaseDeadline = 60 * time.Second

// recorder keeps, for the subject currently being watched, the first instant each
// long-lived node reported it (joined or dead).
type recorder struct {
	mu       sync.Mutex
	kind     string // "join" or "leave"; empty when nothing is watched
	subject  string
	seen     map[string]time.Time
	expected int
	done     chan struct{}
}

func (r *recorder) arm(kind, subject string, expected int) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kind, r.subject, r.expected = kind, subject, expected
	r.seen = make(map[string]time.Time)
	r.done = make(chan struct{})
	return r.done
}

func (r *recorder) record(kind, observer, subject string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if kind != r.kind || subject != r.subject {
		return
	}
	if _, ok := r.seen[observer]; ok {
		return
	}
	r.seen[observer] = at
	if len(r.seen) == r.expected {
		close(r.done)
	}
}

// latest returns the latest recorded instant and the observers still missing.
func (r *recorder) latest(observers []string) (time.Time, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var last time.Time
	var missing []string
	for _, o := range observers {
		t, ok := r.seen[o]
		if !ok {
			missing = append(missing, o)
			continue
		}
		if t.After(last) {
			last = t
		}
	}
	return last, missing
}

// events is the EventDelegate of one long-lived node.
type events struct {
	self string
	rec  *recorder
}

func (e *events) NotifyJoin(n *memberlist.Node)   { e.rec.record("join", e.self, n.Name, time.Now()) }
func (e *events) NotifyLeave(n *memberlist.Node)  { e.rec.record("leave", e.self, n.Name, time.Now()) }
func (e *events) NotifyUpdate(n *memberlist.Node) {}

func nodeConfig(name string, port int, ev memberlist.EventDelegate) *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.Name = name
	c.BindAddr = "127.0.0.1"
	c.AdvertiseAddr = "127.0.0.1"
	c.BindPort = port // 0: memberlist asks the kernel for a free port and advertises it
	c.AdvertisePort = port
	c.LogOutput = io.Discard
	c.Events = ev
	return c
}

func portFor(base, index int) int {
	if base == 0 {
		return 0
	}
	return base + index
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "memberlist-reference: "+format+"\n", args...)
	os.Exit(1)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maximum(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	return m
}

func main() {
	agents := flag.Int("agents", 3, "total number of nodes, including the one started each round")
	rounds := flag.Int("rounds", 5, "number of join/crash rounds")
	asJSON := flag.Bool("json", false, "print one JSON object instead of a summary")
	basePort := flag.Int("base-port", 0, "first UDP/TCP port (node i uses base+i); 0 lets the kernel pick free ports")
	flag.Parse()
	if *agents < 2 || *rounds < 1 {
		fail("need -agents >= 2 and -rounds >= 1")
	}
	progress := func(format string, args ...interface{}) {
		if !*asJSON {
			fmt.Printf(format+"\n", args...)
		}
	}

	rec := &recorder{}
	base := *agents - 1
	nodes := make([]*memberlist.Memberlist, 0, base)
	names := make([]string, 0, base)
	defer func() {
		for _, m := range nodes {
			m.Shutdown()
		}
	}()

	for i := 0; i < base; i++ {
		name := fmt.Sprintf("ref-%d", i)
		m, err := memberlist.Create(nodeConfig(name, portFor(*basePort, i), &events{self: name, rec: rec}))
		if err != nil {
			fail("creating %s: %v", name, err)
		}
		nodes = append(nodes, m)
		names = append(names, name)
	}
	var seeds []string
	for i := 0; i < base && i < 3; i++ {
		seeds = append(seeds, nodes[i].LocalNode().Address())
	}
	for i, m := range nodes {
		var others []string
		for _, s := range seeds {
			if s != m.LocalNode().Address() {
				others = append(others, s)
			}
		}
		if len(others) == 0 {
			continue // a single long-lived node has nobody to join
		}
		if _, err := m.Join(others); err != nil {
			fail("%s joining %v: %v", names[i], others, err)
		}
	}
	end := time.Now().Add(phaseDeadline)
	for {
		converged := true
		for _, m := range nodes {
			if m.NumMembers() != base {
				converged = false
				break
			}
		}
		if converged {
			break
		}
		if time.Now().After(end) {
			fail("timeout: the first %d nodes did not all see each other alive within %v", base, phaseDeadline)
		}
		time.Sleep(100 * time.Millisecond)
	}
	progress("%d nodes converged (seeds %v)", base, seeds)

	wait := func(done chan struct{}, start time.Time, phase, subject string, round int) float64 {
		select {
		case <-done:
		case <-time.After(phaseDeadline):
			_, missing := rec.latest(names)
			fail("timeout in round %d (%s of %s): %d of %d nodes had not seen it within %v: %v",
				round, phase, subject, len(missing), base, phaseDeadline, missing)
		}
		last, _ := rec.latest(names)
		return last.Sub(start).Seconds()
	}

	var joinSeconds, failureSeconds []float64
	for r := 1; r <= *rounds; r++ {
		name := fmt.Sprintf("new-%d", r)
		done := rec.arm("join", name, base)
		t0 := time.Now()
		m, err := memberlist.Create(nodeConfig(name, portFor(*basePort, base+r-1), nil))
		if err != nil {
			fail("creating %s: %v", name, err)
		}
		if _, err := m.Join(seeds); err != nil {
			m.Shutdown()
			fail("%s joining %v: %v", name, seeds, err)
		}
		joinSeconds = append(joinSeconds, wait(done, t0, "join", name, r))

		done = rec.arm("leave", name, base)
		t1 := time.Now()
		m.Shutdown() // a crash: no Leave()
		failureSeconds = append(failureSeconds, wait(done, t1, "failure detection", name, r))
		progress("round %d: join %.3f s, failure detection %.3f s", r, joinSeconds[r-1], failureSeconds[r-1])
	}

	c := memberlist.DefaultLANConfig()
	if *asJSON {
		out := map[string]interface{}{
			"agents":         *agents,
			"rounds":         *rounds,
			"joinSeconds":    joinSeconds,
			"failureSeconds": failureSeconds,
			"config": map[string]interface{}{
				"probeIntervalMs":    c.ProbeInterval.Milliseconds(),
				"probeTimeoutMs":     c.ProbeTimeout.Milliseconds(),
				"suspicionMult":      c.SuspicionMult,
				"gossipIntervalMs":   c.GossipInterval.Milliseconds(),
				"pushPullIntervalMs": c.PushPullInterval.Milliseconds(),
			},
		}
		b, err := json.Marshal(out)
		if err != nil {
			fail("encoding JSON: %v", err)
		}
		fmt.Println(string(b))
		return
	}
	fmt.Printf("memberlist DefaultLANConfig (probe %v, probe timeout %v, suspicion mult %d, gossip %v, push/pull %v), %d agents, %d rounds\n",
		c.ProbeInterval, c.ProbeTimeout, c.SuspicionMult, c.GossipInterval, c.PushPullInterval, *agents, *rounds)
	fmt.Printf("join (start to listed by every peer): median %.3f s, max %.3f s\n", median(joinSeconds), maximum(joinSeconds))
	fmt.Printf("failure detection (crash to dead at every peer): median %.3f s, max %.3f s\n", median(failureSeconds), maximum(failureSeconds))
}
