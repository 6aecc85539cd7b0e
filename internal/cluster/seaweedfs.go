package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/blindpack/blindpack/storage/s3"
)

// SeaweedFS is a distributed object store on loopback: a master, volume
// servers that keep every file on two of them (replication 001: one more
// copy on another server of the same rack), a filer (the namespace) and
// its S3 gateway. Killing one volume server loses nothing: the master
// places new files on the servers left, and reads come from the copy.
type SeaweedFS struct {
	Master  *WeedProc
	Volumes []*WeedProc
	Filer   *WeedProc
	// S3 is the gateway; its Endpoint, AccessKey and SecretKey are what a
	// client needs, as for versitygw.
	S3 *S3
}

// WeedProc is one `weed` server process.
type WeedProc struct {
	Proc
	// Addr is its HTTP address; its gRPC port is the one after.
	Addr string
	grpc int
}

// SeaweedReplication is the replication every volume gets.
const SeaweedReplication = "001"

// WeedPath is where `deploy/local/install-deps.sh --seaweedfs` puts the
// weed binary (beside versitygw).
func WeedPath() (string, error) {
	p, err := VersitygwPath()
	if err != nil {
		// versitygw is missing, but weed may not be: look in its place.
		p = err.Error()
	}
	p = filepath.Join(filepath.Dir(p), "weed")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("cluster: SeaweedFS: %w (deploy/local/install-deps.sh --seaweedfs builds it)", err)
	}
	return p, nil
}

// StartSeaweedFS starts a master, nVolumes volume servers (at least 3, so
// that replication 001 still has two servers to place new files on when
// one is down), a filer and the S3 gateway under dir.
func StartSeaweedFS(dir string, nVolumes int) (_ *SeaweedFS, err error) {
	bin, err := WeedPath()
	if err != nil {
		return nil, err
	}
	w := &SeaweedFS{}
	defer func() {
		if err != nil {
			w.Stop()
		}
	}()
	start := func(name string, args ...string) (*WeedProc, error) {
		http, err := freePort()
		if err != nil {
			return nil, err
		}
		grpc, err := freePort()
		if err != nil {
			return nil, err
		}
		p := &WeedProc{Addr: "127.0.0.1:" + strconv.Itoa(http), grpc: grpc}
		p.Proc = Proc{name: name, path: bin, env: cleanEnv(), logPath: filepath.Join(dir, name+".log"),
			args: append(args[:1:1], append([]string{"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
				"-port=" + strconv.Itoa(http), "-port.grpc=" + strconv.Itoa(grpc)}, args[1:]...)...)}
		if err := p.Start(); err != nil {
			return nil, err
		}
		return p, waitPort(&p.Proc, p.Addr, 30*time.Second)
	}
	mdir := filepath.Join(dir, "weed-master")
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return nil, err
	}
	// Small volumes, so that a run fills several and the master keeps
	// creating new ones — on whichever servers are up.
	if w.Master, err = start("weed-master", "master", "-mdir="+mdir, "-defaultReplication="+SeaweedReplication,
		"-volumeSizeLimitMB=64", "-peers=none"); err != nil {
		return nil, err
	}
	master := w.Master.Addr + "." + strconv.Itoa(w.Master.grpc)
	for i := 1; i <= nVolumes; i++ {
		vdir := filepath.Join(dir, "weed-volume-"+strconv.Itoa(i))
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return nil, err
		}
		v, err := start("weed-volume-"+strconv.Itoa(i), "volume", "-dir="+vdir, "-master="+master,
			"-max=20", "-dataCenter=dc1", "-rack=rack1", "-minFreeSpace=1")
		if err != nil {
			return nil, err
		}
		w.Volumes = append(w.Volumes, v)
	}
	fdir := filepath.Join(dir, "weed-filer")
	if err := os.MkdirAll(fdir, 0o755); err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	access, secret := "blindpack-cluster", "blindpack-cluster-"+hex.EncodeToString(b)
	conf := filepath.Join(dir, "weed-s3.json")
	identities := map[string]any{"identities": []any{map[string]any{
		"name":        "blindpack",
		"credentials": []any{map[string]string{"accessKey": access, "secretKey": secret}},
		"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
	}}}
	data, _ := json.Marshal(identities)
	if err := os.WriteFile(conf, data, 0o600); err != nil {
		return nil, err
	}
	s3port, err := freePort()
	if err != nil {
		return nil, err
	}
	if w.Filer, err = start("weed-filer", "filer", "-master="+master, "-defaultStoreDir="+fdir,
		"-s3", "-s3.port="+strconv.Itoa(s3port), "-s3.config="+conf); err != nil {
		return nil, err
	}
	// The gateway runs inside the filer process: the S3 value only names
	// it (its log is the filer's); stop and kill the Filer.
	w.S3 = &S3{Endpoint: "127.0.0.1:" + strconv.Itoa(s3port), AccessKey: access, SecretKey: secret, Dir: fdir}
	w.S3.name, w.S3.logPath = "weed s3 gateway", w.Filer.logPath
	if err := waitPort(&w.Filer.Proc, w.S3.Endpoint, 30*time.Second); err != nil {
		return nil, err
	}
	return w, w.waitWritable(context.Background(), time.Minute)
}

// waitWritable waits until the gateway stores an object: the volume
// servers have registered and the master can grow a replicated volume.
func (w *SeaweedFS) waitWritable(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := s3.Open(ctx, s3.Config{Endpoint: w.S3.Endpoint, AccessKey: w.S3.AccessKey, SecretKey: w.S3.SecretKey})
	if err != nil {
		return err
	}
	for {
		_, err := cl.Buckets(ctx, s3.BucketNames{Uploads: "probe", Packets: "probe", Reports: "probe", Results: "probe"}, true)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: SeaweedFS not writable: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// VolumeStatus asks the master how many volume servers it sees.
func (w *SeaweedFS) VolumeStatus(ctx context.Context) (servers int, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.Master.Addr+"/dir/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Topology struct {
			DataCenters []struct {
				Racks []struct {
					DataNodes []json.RawMessage
				}
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	for _, dc := range st.Topology.DataCenters {
		for _, r := range dc.Racks {
			servers += len(r.DataNodes)
		}
	}
	return servers, nil
}

// Stop stops every process.
func (w *SeaweedFS) Stop() {
	if w.Filer != nil {
		w.Filer.Stop(5 * time.Second)
	}
	for _, v := range w.Volumes {
		v.Stop(5 * time.Second)
	}
	if w.Master != nil {
		w.Master.Stop(5 * time.Second)
	}
}
