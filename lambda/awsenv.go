package lambda

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWSConfigFromEnv is the SDK configuration New uses when Options.AWS is
// nil, built from the variables the Lambda runtime sets rather than with
// the config package's LoadDefaultConfig: that package links the STS, SSO
// and sign-in clients of its credential chain, whose package initialisation
// alone cost every cold start a few milliseconds and 0.5 MB of allocations,
// and a function never needs them because Lambda puts the execution role's
// credentials in the environment.
//
// It reads, through getenv (os.Getenv when nil; New passes Options.Getenv):
// AWS_REGION (else AWS_DEFAULT_REGION); AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL_SECRETS_MANAGER; and AWS_CA_BUNDLE. Profiles, SSO,
// web identity and instance roles are not consulted: without a region or
// credentials in the environment it returns an error, and New fails closed
// rather than sending unsigned requests. Retries are bounded so that the
// publish timeout decides.
func AWSConfigFromEnv(getenv func(string) string) (aws.Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var missing []string
	if region == "" {
		missing = append(missing, "AWS_REGION")
	}
	if key == "" {
		missing = append(missing, "AWS_ACCESS_KEY_ID")
	}
	if secret == "" {
		missing = append(missing, "AWS_SECRET_ACCESS_KEY")
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("%w: %s not set; Lambda sets them from the function's execution role (elsewhere, export them, e.g. with `aws configure export-credentials --format env`)",
			errAWSEnv, strings.Join(missing, ", "))
	}
	creds := credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))
	creds.Source = []aws.CredentialSource{aws.CredentialSourceEnvVars}

	// One client for every service, as LoadDefaultConfig makes, so SQS, S3
	// and Secrets Manager share the connection pool.
	client := awshttp.NewBuildableClient()
	if path := getenv("AWS_CA_BUNDLE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return aws.Config{}, fmt.Errorf("%w: AWS_CA_BUNDLE: %w", errAWSEnv, err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return aws.Config{}, fmt.Errorf("%w: AWS_CA_BUNDLE=%s holds no PEM certificate", errAWSEnv, path)
		}
		client = client.WithTransportOptions(func(tr *http.Transport) {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.RootCAs = roots
		})
	}

	cfg := aws.Config{
		Region:           region,
		Credentials:      creds,
		HTTPClient:       client,
		RetryMaxAttempts: sdkMaxAttempts,
		// The clients look up AWS_ENDPOINT_URL_<SERVICE> through this.
		ConfigSources: []any{serviceEndpoints{getenv}},
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}

var errAWSEnv = errors.New("AWS SDK configuration")

// serviceEndpoints gives the SDK's clients the per-service endpoint
// variables: a client asks its configuration sources for
// GetServiceBaseEndpoint with its SDK ID ("SQS", "S3", "Secrets Manager").
// The SDK's own answer, config.EnvConfig's, reads the process environment
// and comes only with the config package, whose cost at cold start is why
// this file exists; so the naming is written out here, read through
// getenv, and awsenv_test.go checks it against config.EnvConfig.
type serviceEndpoints struct {
	getenv func(string) string
}

func (s serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	name := "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
	u := s.getenv(name)
	return u, u != "", nil
}
