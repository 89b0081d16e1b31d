package testenv

import (
	"strconv"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// StartGCS starts fake-gcs-server in process, over real HTTP on a loopback
// port, with the given buckets, and points the Storage client at it
// (STORAGE_EMULATOR_HOST) for the rest of the test.
func StartGCS(t testing.TB, buckets ...string) *fakestorage.Server {
	t.Helper()
	port := FreePort(t)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http",
		Host:   "127.0.0.1",
		Port:   uint16(port),
		// The Storage client reads objects with the XML API at
		// STORAGE_EMULATOR_HOST/<bucket>/<object>; the server takes that
		// path for a bucket and object only on its public host.
		PublicHost: "127.0.0.1:" + strconv.Itoa(port),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	for _, b := range buckets {
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())
	return srv
}
