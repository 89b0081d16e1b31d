// Command gcf-source writes the source zip that Cloud Functions builds the
// function from (`make gcf-source` writes dist/gcf-source.zip), the archive
// that `gcloud functions deploy --source` and Terraform upload.
//
// Cloud Functions' Go buildpack compiles only the package at the root of
// the uploaded module. That package must not be main, the module path needs
// a dot, and every .go file at the root counts, tests included. gcf stays a
// subdirectory in the repository, where it reads like the other platforms;
// the zip adds one root file, function.go, that blank-imports gcf (whose
// init registers the function). Moving gcf's files to the root instead
// would change gcf's import path in the deployed build only.
//
// The zip holds the main module's packages that gcf needs (gcf, core and the
// internal packages they import),
// without tests, with a go.mod tidied for them alone (no AWS modules), and a
// vendor/ directory: the deploy then compiles exactly the dependencies
// tested here, without reaching the module proxy.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// functionPackage is the package the zip deploys, relative to the module.
const functionPackage = "gcf"

// rootFile is the root package of the zip. The buildpack chooses the main
// it generates by the root package's imports: one that imports the
// framework's functions package gets a main that imports the root package
// and calls funcframework.Start, the target being found by FUNCTION_TARGET
// among the functions registered in init. With vendor/, the buildpack also
// requires funcframework to be vendored, hence its import here.
const rootFile = `// Package function is the root package that Cloud Functions' Go buildpack
// compiles. It only brings in the function, which registers itself in init.
// Written by cmd/gcf-source; the code is in gcf/.
package function

import (
	_ "github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	_ "github.com/GoogleCloudPlatform/functions-framework-go/functions"

	_ "%s/%s"
)
`

// zipTime is every entry's modification time, so that the same source
// gives the same zip.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "dist/gcf-source.zip", "zip to write")
	root := flag.String("root", ".", "the module's root directory")
	vendor := flag.Bool("vendor", true, "include vendor/ so the deploy needs no module proxy")
	flag.Parse()
	log.SetFlags(0)
	n, err := Build(context.Background(), *root, *out, *vendor)
	if err != nil {
		log.Fatalf("gcf-source: %v", err)
	}
	log.Printf("gcf-source: wrote %s (%d files)", *out, n)
}

// Build writes the source zip for the module at root to out and returns how
// many files it holds. It runs the go command (list, mod tidy, mod vendor)
// with the environment as it is: GOFLAGS=-mod=mod with GOPROXY=off works
// offline from the module cache.
func Build(ctx context.Context, root, out string, vendor bool) (int, error) {
	tmp, err := os.MkdirTemp("", "gcf-source-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)

	module, err := goCmd(ctx, root, "list", "-m")
	if err != nil {
		return 0, err
	}
	if first, _, _ := strings.Cut(module, "/"); !strings.Contains(first, ".") {
		return 0, fmt.Errorf("module path %q: Cloud Functions needs a dot in its first element", module)
	}
	dirs, err := goCmd(ctx, root, "list", "-deps",
		"-f", "{{if .Module}}{{if .Module.Main}}{{.ImportPath}}{{end}}{{end}}", "./"+functionPackage)
	if err != nil {
		return 0, err
	}
	for _, pkg := range strings.Fields(dirs) {
		rel := strings.TrimPrefix(pkg, module+"/")
		if rel == pkg || rel == "" {
			return 0, fmt.Errorf("package %s: the module root must stay free for the function's root file", pkg)
		}
		if err := copyPackage(filepath.Join(root, filepath.FromSlash(rel)), filepath.Join(tmp, filepath.FromSlash(rel))); err != nil {
			return 0, err
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(root, f), filepath.Join(tmp, f)); err != nil {
			return 0, err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "function.go"), fmt.Appendf(nil, rootFile, module, functionPackage), 0o644); err != nil {
		return 0, err
	}
	if _, err := goCmd(ctx, tmp, "mod", "tidy"); err != nil {
		return 0, err
	}
	if vendor {
		if _, err := goCmd(ctx, tmp, "mod", "vendor"); err != nil {
			return 0, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return 0, err
	}
	return writeZip(tmp, out)
}

// copyPackage copies a package's non-test Go files and nothing below it.
func copyPackage(from, to string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if err := copyFile(filepath.Join(from, name), filepath.Join(to, name)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// goCmd runs the go command in dir and returns its trimmed output.
func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

// writeZip zips the tree at dir into out, entries sorted, times fixed.
func writeZip(dir, out string) (int, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	zw := zip.NewWriter(f)
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		h := &zip.FileHeader{Name: path.Clean(filepath.ToSlash(rel)), Method: zip.Deflate, Modified: zipTime}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return 0, err
		}
		src, err := os.Open(p)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(w, src)
		src.Close()
		if err != nil {
			return 0, err
		}
	}
	if err := errors.Join(zw.Close(), f.Close()); err != nil {
		return 0, err
	}
	return len(files), os.Rename(tmp, out)
}
