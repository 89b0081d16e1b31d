package coldstart

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
)

// SQSStub answers the two SQS calls a bootstrap makes, GetQueueAttributes
// at start and SendMessage per event, in the JSON protocol of the AWS SDK
// for Go v2, and S3 PutObject for claim checks, at loopback speed. It keeps
// nothing.
type SQSStub struct {
	*httptest.Server
	// Sent counts SendMessage calls.
	Sent atomic.Int64
	// Stored counts the bytes of S3 PutObject calls (claim checks).
	Stored atomic.Int64
}

// NewSQSStub starts a stub; Close stops it.
func NewSQSStub() *SQSStub {
	s := &SQSStub{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// QueueURL is a queue URL on the stub.
func (s *SQSStub) QueueURL() string { return s.URL + "/000000000000/bench" }

type sqsAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

func (s *SQSStub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		// S3 PutObject (path style), for claim checks: read and drop.
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Stored.Add(n)
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
		w.WriteHeader(http.StatusOK)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch {
	case strings.HasSuffix(target, ".GetQueueAttributes"):
		json.NewEncoder(w).Encode(map[string]any{"Attributes": map[string]string{
			"MaximumMessageSize": "1048576",
			"QueueArn":           "arn:aws:sqs:us-east-1:000000000000:bench",
		}})
	case strings.HasSuffix(target, ".SendMessage"):
		var in struct {
			MessageBody       string
			MessageAttributes map[string]sqsAttribute
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Sent.Add(1)
		body := md5.Sum([]byte(in.MessageBody))
		var id [16]byte
		rand.Read(id[:])
		out := map[string]string{
			"MessageId":        hex.EncodeToString(id[:]),
			"MD5OfMessageBody": hex.EncodeToString(body[:]),
		}
		if len(in.MessageAttributes) > 0 {
			out["MD5OfMessageAttributes"] = attributesMD5(in.MessageAttributes)
		}
		json.NewEncoder(w).Encode(out)
	default:
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "InvalidAction", "message": "stub: unsupported " + target})
	}
}

// attributesMD5 is the digest SQS returns for message attributes: names in
// order, each as length-prefixed name, data type, a transport byte (1 for
// strings and numbers, 2 for binary) and length-prefixed value.
func attributesMD5(attrs map[string]sqsAttribute) string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	h := md5.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		field([]byte(n))
		field([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			field(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			field([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
