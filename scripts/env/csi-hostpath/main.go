// ark-csi-hostpath: a CSI plugin for ark's test environment, whose volumes and snapshots are
// directories under one data directory.
//
// It stands in for kubernetes-csi's csi-driver-host-path, which the Go module proxy reachable from
// ark's machines does not serve. It answers as driver hostpath.csi.k8s.io so manifests written for
// that driver work unchanged, and it serves the Identity, Controller and Node services on one unix
// socket, for csi-provisioner and csi-snapshotter. There is no kubelet in the test environment, so
// the Node service only reports its node id; nothing is ever mounted.
//
// The data directory is the whole state (no state file, nothing cached in memory), so two plugins
// of two clusters pointed at one data directory see each other's snapshots: a snapshot handle
// taken in one cluster restores in the other, as a cloud provider's snapshot id would.
//
//	DATA/volumes/<volume id>/          the volume's files
//	DATA/volumes/<volume id>.json      its record: name, capacity, source, parameters
//	DATA/snapshots/<snapshot id>/      a copy of the source volume's files
//	DATA/snapshots/<snapshot id>.json  its record: source volume, size, creation time, parameters
//
// A record is written last, after its directory is complete, and an object exists only when its
// record does. Volume and snapshot ids are the names the sidecars ask for (pvc-<uid>,
// snapshot-<uid>) when those are safe file names, otherwise a hash of the name.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const defaultCapacity = 1 << 30

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

type volumeRecord struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	CapacityBytes int64             `json:"capacityBytes"`
	SourceKind    string            `json:"sourceKind,omitempty"` // "snapshot" or "volume"
	SourceID      string            `json:"sourceId,omitempty"`
	Parameters    map[string]string `json:"parameters,omitempty"`
	Created       time.Time         `json:"created"`
}

type snapshotRecord struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	SourceVolumeID string            `json:"sourceVolumeId"`
	SizeBytes      int64             `json:"sizeBytes"`
	Parameters     map[string]string `json:"parameters,omitempty"`
	Created        time.Time         `json:"created"`
}

type plugin struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedNodeServer

	name, version, nodeID, data string
	// One operation at a time within this process; two processes sharing a data directory rely on
	// ids being unique per cluster (they carry object uids) and on records being renamed into place.
	mu sync.Mutex
}

func idFor(name string) string {
	if safeID.MatchString(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "h-" + hex.EncodeToString(sum[:16])
}

func (p *plugin) dir(kind, id string) string    { return filepath.Join(p.data, kind, id) }
func (p *plugin) record(kind, id string) string { return filepath.Join(p.data, kind, id+".json") }

func readRecord(path string, into any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, into)
}

// writeRecord makes a record appear whole: a temporary file, fsync, rename.
func writeRecord(path string, rec any) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(append(b, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// copyTree copies regular files, directories and symlinks (as links) from src into dst, which
// must not exist yet.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return nil // sockets, fifos, devices: nothing a test volume needs
		}
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err = io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fillDir makes kind/id hold a copy of from (or nothing when from is empty), replacing whatever
// an interrupted earlier attempt left there.
func (p *plugin) fillDir(kind, id, from string) error {
	final := p.dir(kind, id)
	tmp := final + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if from == "" {
		if err := os.Mkdir(tmp, 0o777); err != nil {
			return err
		}
		// A volume is written by whoever uses it, as any user; 0777 despite the umask.
		if err := os.Chmod(tmp, 0o777); err != nil {
			return err
		}
	} else if err := copyTree(from, tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

func internal(what string, err error) error {
	return status.Errorf(codes.Internal, "%s: %v", what, err)
}

// Identity

func (p *plugin) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: p.name, VendorVersion: p.version}, nil
}

func (p *plugin) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	// No VOLUME_ACCESSIBILITY_CONSTRAINTS: volumes have no topology, so Immediate binding works
	// without nodes.
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{{
		Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{
			Type: csi.PluginCapability_Service_CONTROLLER_SERVICE,
		}},
	}}}, nil
}

func (p *plugin) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	if _, err := os.Stat(p.data); err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "data directory: %v", err)
	}
	return &csi.ProbeResponse{}, nil
}

// Controller

func (p *plugin) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, c := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
		csi.ControllerServiceCapability_RPC_CLONE_VOLUME,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: c}},
		})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

func checkCapabilities(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	for _, c := range caps {
		if c.GetBlock() != nil {
			return status.Error(codes.InvalidArgument, "block volumes are not supported")
		}
	}
	return nil
}

func (p *plugin) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name missing")
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	capacity := req.GetCapacityRange().GetRequiredBytes()
	if capacity == 0 {
		capacity = req.GetCapacityRange().GetLimitBytes()
	}
	if capacity == 0 {
		capacity = defaultCapacity
	}
	rec := volumeRecord{ID: idFor(req.GetName()), Name: req.GetName(), CapacityBytes: capacity,
		Parameters: req.GetParameters(), Created: time.Now().UTC()}
	from := ""
	switch {
	case req.GetVolumeContentSource().GetSnapshot() != nil:
		rec.SourceKind, rec.SourceID = "snapshot", req.GetVolumeContentSource().GetSnapshot().GetSnapshotId()
	case req.GetVolumeContentSource().GetVolume() != nil:
		rec.SourceKind, rec.SourceID = "volume", req.GetVolumeContentSource().GetVolume().GetVolumeId()
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	var existing volumeRecord
	if found, err := readRecord(p.record("volumes", rec.ID), &existing); err != nil {
		return nil, internal("read volume record", err)
	} else if found {
		if existing.Name != rec.Name || existing.CapacityBytes != rec.CapacityBytes ||
			existing.SourceKind != rec.SourceKind || existing.SourceID != rec.SourceID {
			return nil, status.Errorf(codes.AlreadyExists, "volume %s exists with other parameters", rec.ID)
		}
		return &csi.CreateVolumeResponse{Volume: p.volume(existing, req.GetVolumeContentSource())}, nil
	}
	switch rec.SourceKind {
	case "snapshot":
		var snap snapshotRecord
		found, err := readRecord(p.record("snapshots", rec.SourceID), &snap)
		if err != nil {
			return nil, internal("read snapshot record", err)
		}
		if !found {
			return nil, status.Errorf(codes.NotFound, "snapshot %s not found", rec.SourceID)
		}
		if snap.SizeBytes > capacity {
			return nil, status.Errorf(codes.OutOfRange, "snapshot %s holds %d bytes, more than the %d requested",
				snap.ID, snap.SizeBytes, capacity)
		}
		from = p.dir("snapshots", rec.SourceID)
	case "volume":
		var src volumeRecord
		found, err := readRecord(p.record("volumes", rec.SourceID), &src)
		if err != nil {
			return nil, internal("read volume record", err)
		}
		if !found {
			return nil, status.Errorf(codes.NotFound, "volume %s not found", rec.SourceID)
		}
		if src.CapacityBytes > capacity {
			return nil, status.Errorf(codes.OutOfRange, "volume %s holds %d bytes, more than the %d requested",
				src.ID, src.CapacityBytes, capacity)
		}
		from = p.dir("volumes", rec.SourceID)
	}
	if err := p.fillDir("volumes", rec.ID, from); err != nil {
		return nil, internal("create volume directory", err)
	}
	if err := writeRecord(p.record("volumes", rec.ID), rec); err != nil {
		return nil, internal("write volume record", err)
	}
	return &csi.CreateVolumeResponse{Volume: p.volume(rec, req.GetVolumeContentSource())}, nil
}

func (p *plugin) volume(rec volumeRecord, source *csi.VolumeContentSource) *csi.Volume {
	return &csi.Volume{
		VolumeId:      rec.ID,
		CapacityBytes: rec.CapacityBytes,
		// Tests find the volume's files through the PV's volumeAttributes.
		VolumeContext: map[string]string{"path": p.dir("volumes", rec.ID)},
		ContentSource: source,
	}
}

func (p *plugin) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	if !safeID.MatchString(req.GetVolumeId()) {
		return &csi.DeleteVolumeResponse{}, nil // never one of ours
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The record goes first, so a half-deleted volume no longer exists.
	if err := os.Remove(p.record("volumes", req.GetVolumeId())); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, internal("delete volume record", err)
	}
	if err := os.RemoveAll(p.dir("volumes", req.GetVolumeId())); err != nil {
		return nil, internal("delete volume directory", err)
	}
	return &csi.DeleteVolumeResponse{}, nil
}

func (p *plugin) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if !safeID.MatchString(req.GetVolumeId()) {
		return nil, status.Errorf(codes.NotFound, "volume %q not found", req.GetVolumeId())
	}
	var rec volumeRecord
	found, err := readRecord(p.record("volumes", req.GetVolumeId()), &rec)
	if err != nil {
		return nil, internal("read volume record", err)
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.GetVolumeId())
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext: req.GetVolumeContext(), VolumeCapabilities: req.GetVolumeCapabilities(),
		Parameters: req.GetParameters(),
	}}, nil
}

func (p *plugin) CreateSnapshot(_ context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	if req.GetName() == "" || req.GetSourceVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "name or source volume id missing")
	}
	id := idFor(req.GetName())
	p.mu.Lock()
	defer p.mu.Unlock()
	var existing snapshotRecord
	if found, err := readRecord(p.record("snapshots", id), &existing); err != nil {
		return nil, internal("read snapshot record", err)
	} else if found {
		if existing.SourceVolumeID != req.GetSourceVolumeId() {
			return nil, status.Errorf(codes.AlreadyExists, "snapshot %s exists for volume %s", id, existing.SourceVolumeID)
		}
		return &csi.CreateSnapshotResponse{Snapshot: snapshot(existing)}, nil
	}
	var vol volumeRecord
	found := false
	if safeID.MatchString(req.GetSourceVolumeId()) {
		var err error
		if found, err = readRecord(p.record("volumes", req.GetSourceVolumeId()), &vol); err != nil {
			return nil, internal("read volume record", err)
		}
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.GetSourceVolumeId())
	}
	if err := p.fillDir("snapshots", id, p.dir("volumes", vol.ID)); err != nil {
		return nil, internal("copy volume into snapshot", err)
	}
	rec := snapshotRecord{ID: id, Name: req.GetName(), SourceVolumeID: vol.ID, SizeBytes: vol.CapacityBytes,
		Parameters: req.GetParameters(), Created: time.Now().UTC()}
	if err := writeRecord(p.record("snapshots", id), rec); err != nil {
		return nil, internal("write snapshot record", err)
	}
	return &csi.CreateSnapshotResponse{Snapshot: snapshot(rec)}, nil
}

func snapshot(rec snapshotRecord) *csi.Snapshot {
	return &csi.Snapshot{SnapshotId: rec.ID, SourceVolumeId: rec.SourceVolumeID, SizeBytes: rec.SizeBytes,
		CreationTime: timestamppb.New(rec.Created), ReadyToUse: true}
}

func (p *plugin) DeleteSnapshot(_ context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	if req.GetSnapshotId() == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot id missing")
	}
	if !safeID.MatchString(req.GetSnapshotId()) {
		return &csi.DeleteSnapshotResponse{}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := os.Remove(p.record("snapshots", req.GetSnapshotId())); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, internal("delete snapshot record", err)
	}
	if err := os.RemoveAll(p.dir("snapshots", req.GetSnapshotId())); err != nil {
		return nil, internal("delete snapshot directory", err)
	}
	return &csi.DeleteSnapshotResponse{}, nil
}

func (p *plugin) ListSnapshots(_ context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	var ids []string
	if id := req.GetSnapshotId(); id != "" {
		if safeID.MatchString(id) {
			ids = []string{id}
		}
	} else {
		matches, err := filepath.Glob(filepath.Join(p.data, "snapshots", "*.json"))
		if err != nil {
			return nil, internal("list snapshots", err)
		}
		for _, m := range matches {
			ids = append(ids, strings.TrimSuffix(filepath.Base(m), ".json"))
		}
		sort.Strings(ids)
	}
	var recs []snapshotRecord
	for _, id := range ids {
		var rec snapshotRecord
		found, err := readRecord(p.record("snapshots", id), &rec)
		if err != nil {
			return nil, internal("read snapshot record", err)
		}
		if found && (req.GetSourceVolumeId() == "" || rec.SourceVolumeID == req.GetSourceVolumeId()) {
			recs = append(recs, rec)
		}
	}
	start := 0
	if tok := req.GetStartingToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(recs) {
			return nil, status.Errorf(codes.Aborted, "starting token %q is not valid", tok)
		}
		start = n
	}
	end := len(recs)
	if max := int(req.GetMaxEntries()); max > 0 && start+max < end {
		end = start + max
	}
	resp := &csi.ListSnapshotsResponse{}
	for _, rec := range recs[start:end] {
		resp.Entries = append(resp.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: snapshot(rec)})
	}
	if end < len(recs) {
		resp.NextToken = strconv.Itoa(end)
	}
	return resp, nil
}

// Node: no kubelet calls it; it names the node and offers nothing else.

func (p *plugin) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: p.nodeID}, nil
}

func (p *plugin) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{}, nil
}

func logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	if err != nil {
		log.Printf("%s %v: %v (%s)", info.FullMethod, req, err, time.Since(start))
	} else if !strings.Contains(info.FullMethod, "Probe") && !strings.HasSuffix(info.FullMethod, "Capabilities") {
		log.Printf("%s %v -> %v (%s)", info.FullMethod, req, resp, time.Since(start))
	}
	return resp, err
}

var version = "dev"

func main() {
	p := &plugin{version: version}
	endpoint := flag.String("endpoint", "", "unix socket to serve CSI on: unix:///path or /path")
	flag.StringVar(&p.name, "drivername", "hostpath.csi.k8s.io", "CSI driver name")
	flag.StringVar(&p.nodeID, "nodeid", "", "node id reported by NodeGetInfo")
	flag.StringVar(&p.data, "datadir", "", "directory holding volumes and snapshots")
	flag.Parse()
	if *endpoint == "" || p.nodeID == "" || p.data == "" {
		log.Fatal("--endpoint, --nodeid and --datadir are required")
	}
	for _, d := range []string{"volumes", "snapshots"} {
		if err := os.MkdirAll(filepath.Join(p.data, d), 0o755); err != nil {
			log.Fatal(err)
		}
	}
	socket := strings.TrimPrefix(*endpoint, "unix://")
	if err := os.Remove(socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Fatal(err)
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		log.Fatal(err)
	}
	server := grpc.NewServer(grpc.UnaryInterceptor(logCalls))
	csi.RegisterIdentityServer(server, p)
	csi.RegisterControllerServer(server, p)
	csi.RegisterNodeServer(server, p)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		server.GracefulStop()
	}()
	fmt.Fprintf(os.Stderr, "%s %s serving on %s, node %s, data in %s\n", p.name, p.version, socket, p.nodeID, p.data)
	if err := server.Serve(listener); err != nil {
		log.Fatal(err)
	}
}
