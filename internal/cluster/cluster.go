package cluster

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/state"
	"github.com/blindpack/blindpack/storage"
	"github.com/blindpack/blindpack/storage/s3"
	"github.com/blindpack/blindpack/workers"
)

// RehearsalClock is inside the 2024 campaign's submission period
// (5–30 September 2024, Beijing time), so that submissions are admitted.
const RehearsalClock = "2024-09-20T10:00:00+08:00"

// DefaultSecret keys the anonymous codes of a cluster unless Config says
// otherwise. Not a secret: these runs use synthetic applicants only.
const DefaultSecret = "blindpack-cluster-secret-0123456789"

// Config says what to run. Dir and Bin are required; the zero value of
// every other field is its default.
type Config struct {
	// Dir holds every service's data and every log.
	Dir string
	// Bin is the blindpack binary the workers run (see Build).
	Bin string
	// AnonSecret keys the anonymous codes (default DefaultSecret).
	AnonSecret string
	// Clock is the rehearsal time of workers and submitter, RFC 3339
	// (default RehearsalClock).
	Clock string
	// Concurrency is each worker's --concurrency (default 1: one task per
	// process, so that a SIGKILL interrupts exactly one).
	Concurrency int
	// WorkerEnv are extra KEY=VALUE settings for every worker.
	WorkerEnv []string
	// Sentinel runs Redis as a primary, a replica and three Sentinels
	// (see StartSentinel) instead of one server; every client then finds
	// the primary through the Sentinels.
	Sentinel bool
	// SeaweedFS stores objects in a SeaweedFS cluster (see StartSeaweedFS)
	// with this many volume servers instead of versitygw; 0: versitygw.
	SeaweedFS int
}

// Cluster is a running private deployment.
type Cluster struct {
	cfg   Config
	clock time.Time

	// Redis is the one Redis server; with Config.Sentinel it is the node
	// that started as primary, and Sentinel has the whole group.
	Redis    *Redis
	Sentinel *Sentinel
	// S3 is the S3 endpoint: versitygw, or SeaweedFS's gateway, whose
	// processes Seaweed has.
	S3        *S3
	Seaweed   *SeaweedFS
	Buckets   storage.Buckets
	Client    *asynq.Client
	Inspector *asynq.Inspector
	// State is the application state store the workers use, for checks.
	State *state.Store
	// Submitter submits as the upload service does, on the rehearsal clock.
	Submitter *workers.Submitter

	rdb redis.UniversalClient

	mu      sync.Mutex
	workers []*Worker
}

// Start starts Redis and the S3 server under cfg.Dir, makes the buckets,
// and connects the clients. It starts no worker: see AddWorker.
func Start(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	if cfg.Dir == "" || cfg.Bin == "" {
		return nil, errors.New("cluster: Config.Dir and Config.Bin are required")
	}
	cfg.AnonSecret = cmp.Or(cfg.AnonSecret, DefaultSecret)
	cfg.Clock = cmp.Or(cfg.Clock, RehearsalClock)
	cfg.Concurrency = cmp.Or(cfg.Concurrency, 1)
	at, err := time.Parse(time.RFC3339, cfg.Clock)
	if err != nil {
		return nil, fmt.Errorf("cluster: clock: %w", err)
	}
	c := &Cluster{cfg: cfg, clock: at}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if cfg.Sentinel {
		if c.Sentinel, err = StartSentinel(cfg.Dir); err != nil {
			return nil, err
		}
		c.Redis = c.Sentinel.Nodes[0]
	} else if c.Redis, err = StartRedis(cfg.Dir); err != nil {
		return nil, err
	}
	if cfg.SeaweedFS > 0 {
		if c.Seaweed, err = StartSeaweedFS(cfg.Dir, cfg.SeaweedFS); err != nil {
			return nil, err
		}
		c.S3 = c.Seaweed.S3
	} else if c.S3, err = StartS3(cfg.Dir); err != nil {
		return nil, err
	}
	cl, err := s3.Open(ctx, s3.Config{Endpoint: c.S3.Endpoint, AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey})
	if err != nil {
		return nil, err
	}
	if c.Buckets, err = cl.Buckets(ctx, s3.BucketNames{}, true); err != nil {
		return nil, err
	}
	var opt asynq.RedisConnOpt = asynq.RedisClientOpt{Addr: c.Redis.Addr}
	c.rdb = redis.NewClient(&redis.Options{Addr: c.Redis.Addr})
	if c.Sentinel != nil {
		opt = asynq.RedisFailoverClientOpt{MasterName: MasterName, SentinelAddrs: c.Sentinel.Addrs()}
		c.rdb = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: MasterName, SentinelAddrs: c.Sentinel.Addrs()})
	}
	c.Client = asynq.NewClient(opt)
	c.Inspector = asynq.NewInspector(opt)
	c.State = state.New(c.rdb, state.Options{Now: c.Now})
	c.Submitter = &workers.Submitter{Uploads: c.Buckets.Uploads, Client: c.Client, State: c.State, Now: c.Now}
	return c, nil
}

// Now is the rehearsal clock: Config.Clock when the cluster started,
// running on from there.
func (c *Cluster) Now() time.Time { return c.clock.Add(time.Since(startedAt)) }

// startedAt anchors the rehearsal clocks of this process. A worker's clock
// starts from Config.Clock when the worker starts: minutes apart at most,
// against a submission period of weeks.
var startedAt = time.Now()

// Close stops the workers (SIGTERM, then SIGKILL) and the services.
func (c *Cluster) Close() {
	for _, w := range c.Workers() {
		w.Stop(10 * time.Second)
	}
	if c.Client != nil {
		c.Client.Close()
	}
	if c.Inspector != nil {
		c.Inspector.Close()
	}
	if c.rdb != nil {
		c.rdb.Close()
	}
	if c.Seaweed != nil {
		c.Seaweed.Stop()
	} else if c.S3 != nil {
		c.S3.Stop(5 * time.Second)
	}
	if c.Sentinel != nil {
		c.Sentinel.Stop()
	} else if c.Redis != nil {
		c.Redis.Stop(5 * time.Second)
	}
}

// Workers returns the workers added so far.
func (c *Cluster) Workers() []*Worker {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.workers)
}

// Env is the environment a blindpack command needs to reach this
// cluster: Redis, S3, buckets, secret and clock, as BLINDPACK_ variables.
func (c *Cluster) Env() []string {
	redisEnv := []string{"BLINDPACK_REDIS_ADDR=" + c.Redis.Addr}
	if c.Sentinel != nil {
		redisEnv = []string{"BLINDPACK_REDIS_SENTINELS=" + strings.Join(c.Sentinel.Addrs(), ","), "BLINDPACK_REDIS_MASTER=" + MasterName}
	}
	return append(append(cleanEnv(), redisEnv...),
		"BLINDPACK_S3_ENDPOINT="+c.S3.Endpoint,
		"BLINDPACK_S3_ACCESS_KEY="+c.S3.AccessKey,
		"BLINDPACK_S3_SECRET_KEY="+c.S3.SecretKey,
		"BLINDPACK_ANON_SECRET="+c.cfg.AnonSecret,
		"BLINDPACK_CLOCK="+c.cfg.Clock,
	)
}

// Command returns `blindpack args...` with the cluster's environment.
func (c *Cluster) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.cfg.Bin, args...)
	cmd.Env = c.Env()
	return cmd
}

// Worker is one `blindpack worker` process. Each incarnation gets a temp
// directory of its own, so that what a killed one left behind can be told
// from what a live one is writing.
type Worker struct {
	Proc
	// ID numbers the worker from 1.
	ID  int
	c   *Cluster
	dir string

	tmu     sync.Mutex
	tempDir string
}

// AddWorker starts one more worker process. It returns once the process
// runs; WaitReady tells when it takes tasks.
func (c *Cluster) AddWorker() (*Worker, error) {
	c.mu.Lock()
	id := len(c.workers) + 1
	w := &Worker{ID: id, c: c, dir: filepath.Join(c.cfg.Dir, "worker-"+strconv.Itoa(id))}
	c.workers = append(c.workers, w)
	c.mu.Unlock()
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return nil, err
	}
	w.Proc = Proc{name: "worker " + strconv.Itoa(id), path: c.cfg.Bin, args: []string{"worker"},
		logPath: filepath.Join(w.dir, "worker.log")}
	return w, w.Restart()
}

// Restart starts a new incarnation of the worker, with a fresh temp dir.
func (w *Worker) Restart() error {
	tmp := filepath.Join(w.dir, "tmp-"+strconv.Itoa(w.Starts()+1))
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	w.tmu.Lock()
	w.tempDir = tmp
	w.tmu.Unlock()
	w.env = append(w.c.Env(), append([]string{
		"BLINDPACK_CONCURRENCY=" + strconv.Itoa(w.c.cfg.Concurrency),
		"BLINDPACK_TEMP_DIR=" + tmp,
		"BLINDPACK_LOG_FORMAT=json",
		// The fault and load runs measure the queue, not OCR: without the
		// gate a packet is published as the process task ends, as these
		// runs expect (WorkerEnv may turn it back on).
		"BLINDPACK_NO_OCR=true",
	}, w.c.cfg.WorkerEnv...)...)
	return w.Start()
}

// TempDir is the --temp-dir of the current (or last) incarnation.
func (w *Worker) TempDir() string {
	w.tmu.Lock()
	defer w.tmu.Unlock()
	return w.tempDir
}

// Dir holds the worker's log and the temp dirs of its incarnations.
func (w *Worker) Dir() string { return w.dir }

// WaitReady waits until every running worker has registered with Redis
// (asynq writes a server's state when it starts taking tasks).
func (c *Cluster) WaitReady(ctx context.Context) error {
	for {
		want := map[int]bool{}
		for _, w := range c.Workers() {
			if pid := w.PID(); pid != 0 {
				want[pid] = true
			}
		}
		servers, err := c.Inspector.Servers()
		if err == nil {
			for _, s := range servers {
				delete(want, s.PID)
			}
			if len(want) == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: workers not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Build compiles cmd/blindpack into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("cluster: the go command is needed to build blindpack: %w", err)
	}
	out := filepath.Join(dir, "blindpack")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/blindpack")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cluster: go build: %w\n%s", err, msg)
	}
	return out, nil
}

// ModuleRoot finds the blindpack module's directory from the working
// directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/blindpack/blindpack\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster: not inside the blindpack module")
		}
		dir = parent
	}
}

// Samples lists the sample submission directories in testdata/samples.
func Samples() ([]string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	docs, err := filepath.Glob(filepath.Join(root, "testdata", "samples", "*", "submission.json"))
	if err != nil || len(docs) == 0 {
		return nil, fmt.Errorf("cluster: no sample submissions in testdata/samples (go run ./testdata/gen -out testdata/samples)")
	}
	var dirs []string
	for _, d := range docs {
		dirs = append(dirs, filepath.Dir(d))
	}
	slices.Sort(dirs)
	return dirs, nil
}

// Submission is a sample re-labelled as another applicant's first
// submission, its files already in the uploads bucket.
type Submission struct {
	Campaign, ApplicantID, SubmissionID string
	// Doc is the submission document, naming the uploaded keys.
	Doc []byte
	// Sample is the directory the files came from.
	Sample string
}

// ReportKey is where the submission's report will be.
func (s Submission) ReportKey() string {
	return storage.ReportKey(s.Campaign, s.ApplicantID, s.SubmissionID)
}

// Prepare re-labels the sample in dir as applicantID's first submission
// (applicantID-r1) and uploads its files under that submission's own keys,
// as an upload service would before submitting. Each applicant gets its own
// copy, so every job reads, checks and builds everything.
func (c *Cluster) Prepare(ctx context.Context, dir, applicantID string) (Submission, error) {
	doc, err := os.ReadFile(filepath.Join(dir, "submission.json"))
	if err != nil {
		return Submission{}, err
	}
	sub, err := pipeline.ParseSubmission(doc)
	if err != nil {
		return Submission{}, err
	}
	sub.ApplicantID, sub.SubmissionID = applicantID, applicantID+"-r1"
	for i, m := range sub.Materials {
		key := path.Join(sub.Campaign, sub.ApplicantID, sub.SubmissionID, fmt.Sprintf("%02d-%s", i, path.Base(m.File)))
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m.File)))
		if err != nil {
			return Submission{}, err
		}
		if err := c.Buckets.Uploads.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
			return Submission{}, err
		}
		sub.Materials[i].File = key
	}
	if doc, err = sub.Marshal(); err != nil {
		return Submission{}, err
	}
	return Submission{Campaign: sub.Campaign, ApplicantID: sub.ApplicantID, SubmissionID: sub.SubmissionID, Doc: doc, Sample: dir}, nil
}

// Submit stores the document and enqueues its task, as `blindpack submit`
// does.
func (c *Cluster) Submit(ctx context.Context, s Submission) (workers.ProcessPayload, error) {
	return c.Submitter.Submit(ctx, s.Doc)
}

// API is a `blindpack serve` process of the cluster.
type API struct {
	Proc
	// Addr is its host:port on loopback.
	Addr string
}

// StartAPI starts `blindpack serve` on a free loopback port with the
// given tokens file, configured like the workers, and waits until it
// listens.
func (c *Cluster) StartAPI(tokensPath string) (*API, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	a := &API{Addr: "127.0.0.1:" + strconv.Itoa(port)}
	a.Proc = Proc{name: "api", path: c.cfg.Bin, args: []string{"serve"}, logPath: filepath.Join(c.cfg.Dir, "api.log"),
		env: append(c.Env(), "BLINDPACK_LISTEN="+a.Addr, "BLINDPACK_TOKENS="+tokensPath, "BLINDPACK_LOG_FORMAT=json")}
	if err := a.Start(); err != nil {
		return nil, err
	}
	return a, waitPort(&a.Proc, a.Addr, 30*time.Second)
}
