package lambda

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/elevenrelay/elevenrelay/internal/envvar"
	"github.com/elevenrelay/elevenrelay/internal/logging"
	"github.com/stretchr/testify/require"
)

// lambdaEnv sets what the Lambda runtime sets, and clears the variables
// the test changes, for the rest of the test.
func lambdaEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
		os.Unsetenv(k) // the SQS client tells unset from empty
	}
	for k, v := range map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN"} {
		t.Setenv(k, v)
	}
	for k, v := range env {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k)
		}
	}
}

func TestAWSConfigFromEnv(t *testing.T) {
	t.Run("as Lambda sets it", func(t *testing.T) {
		lambdaEnv(t, nil)
		cfg, err := AWSConfigFromEnv(nil)
		require.NoError(t, err)
		require.Equal(t, "eu-west-1", cfg.Region)
		require.Equal(t, sdkMaxAttempts, cfg.RetryMaxAttempts)
		require.Nil(t, cfg.BaseEndpoint)
		creds, err := cfg.Credentials.Retrieve(context.Background())
		require.NoError(t, err)
		require.Equal(t, [3]string{"AKID", "SECRET", "TOKEN"}, [3]string{creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken})
		require.Nil(t, sqs.NewFromConfig(cfg).Options().BaseEndpoint, "the SDK's own endpoint resolution")
	})

	t.Run("AWS_DEFAULT_REGION when AWS_REGION is unset", func(t *testing.T) {
		lambdaEnv(t, map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"})
		cfg, err := AWSConfigFromEnv(nil)
		require.NoError(t, err)
		require.Equal(t, "ap-south-1", cfg.Region)
	})

	t.Run("endpoints: one for all, and per service", func(t *testing.T) {
		lambdaEnv(t, map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_SQS": "http://sqs:2",
			"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm:3"})
		cfg, err := AWSConfigFromEnv(nil)
		require.NoError(t, err)
		require.Equal(t, "http://sqs:2", aws.ToString(sqs.NewFromConfig(cfg).Options().BaseEndpoint))
		require.Equal(t, "http://sm:3", aws.ToString(secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint))
		require.Equal(t, "http://all:1", aws.ToString(s3.NewFromConfig(cfg).Options().BaseEndpoint))
	})

	t.Run("only a service's endpoint", func(t *testing.T) {
		lambdaEnv(t, map[string]string{"AWS_ENDPOINT_URL_S3": "http://s3:4"})
		cfg, err := AWSConfigFromEnv(nil)
		require.NoError(t, err)
		require.Equal(t, "http://s3:4", aws.ToString(s3.NewFromConfig(cfg).Options().BaseEndpoint))
		require.Nil(t, sqs.NewFromConfig(cfg).Options().BaseEndpoint)
	})

	t.Run("no credentials or region: an error that names them", func(t *testing.T) {
		lambdaEnv(t, map[string]string{"AWS_REGION": "", "AWS_SECRET_ACCESS_KEY": ""})
		_, err := AWSConfigFromEnv(nil)
		require.ErrorIs(t, err, errAWSEnv)
		require.ErrorContains(t, err, "AWS_REGION, AWS_SECRET_ACCESS_KEY not set")
	})

	t.Run("AWS_CA_BUNDLE is trusted for TLS", func(t *testing.T) {
		var called atomic.Bool
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called.Store(true)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Write([]byte(`{"Attributes":{"MaximumMessageSize":"2048"}}`))
		}))
		defer srv.Close()
		bundle := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
		lambdaEnv(t, map[string]string{"AWS_ENDPOINT_URL": srv.URL, "AWS_CA_BUNDLE": bundle})
		cfg, err := AWSConfigFromEnv(nil)
		require.NoError(t, err)
		limit, err := queueLimit(context.Background(), sqs.NewFromConfig(cfg), srv.URL+"/123456789012/q")
		require.NoError(t, err)
		require.True(t, called.Load())
		require.Equal(t, 2048, limit)
	})

	t.Run("AWS_CA_BUNDLE unreadable or not PEM", func(t *testing.T) {
		notPEM := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(notPEM, []byte("nothing"), 0o600))
		for _, path := range []string{filepath.Join(t.TempDir(), "missing.pem"), notPEM} {
			lambdaEnv(t, map[string]string{"AWS_CA_BUNDLE": path})
			_, err := AWSConfigFromEnv(nil)
			require.ErrorIs(t, err, errAWSEnv)
			require.ErrorContains(t, err, "AWS_CA_BUNDLE")
		}
	})
}

// Without credentials in the environment the function fails closed at
// start, saying what to set, instead of sending unsigned requests.
func TestNewWithoutAWSCredentials(t *testing.T) {
	lambdaEnv(t, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
	var logs bytes.Buffer
	env := map[string]string{envvar.Secret: testSecret, envvar.SQSQueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/q"}
	h := New(context.Background(), Options{Getenv: func(k string) string { return env[k] }, Logger: logging.New(&logs, 0)})
	require.Error(t, h.Receiver.Err)
	require.ErrorIs(t, h.Receiver.Err, errAWSEnv)
	require.Contains(t, logs.String(), "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set")
}

// The per-service endpoint variables are named as the SDK's config package
// names them (which the bootstrap does not link), and read through getenv.
func TestServiceEndpointsMatchTheSDK(t *testing.T) {
	vars := map[string]string{}
	for _, id := range []string{"SQS", "S3", "Secrets Manager"} {
		name := "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(id), " ", "_")
		t.Setenv(name, "http://127.0.0.1:9/"+id)
		vars[name] = "http://127.0.0.1:9/" + id
	}
	ours := serviceEndpoints{getenv: func(k string) string { return vars[k] }}
	for _, id := range []string{"SQS", "S3", "Secrets Manager", "STS"} {
		want, wantOK, err := config.EnvConfig{}.GetServiceBaseEndpoint(context.Background(), id)
		require.NoError(t, err)
		got, ok, err := ours.GetServiceBaseEndpoint(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, [2]any{want, wantOK}, [2]any{got, ok}, id)
	}
}
