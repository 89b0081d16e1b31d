package lambda

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/elevenrelay/elevenrelay/internal/envvar"
)

// secretsAPI is the part of the Secrets Manager client that loadSecrets uses.
type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// loadSecrets reads the webhook secrets from the Secrets Manager secret arn:
// its plain-text value, one secret or several separated by commas while a
// rotation is under way.
func loadSecrets(ctx context.Context, client secretsAPI, arn string) ([]string, error) {
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("secretsmanager GetSecretValue: %w", err)
	}
	if out.SecretString == nil {
		return nil, errors.New("secretsmanager GetSecretValue: the secret has no string value; store the webhook secret as plain text")
	}
	v := strings.TrimSpace(*out.SecretString)
	if strings.HasPrefix(v, "{") {
		// A key/value secret would otherwise become one long, wrong key.
		return nil, errors.New("secretsmanager GetSecretValue: the secret is JSON; store the webhook secret as plain text (several separated by commas)")
	}
	secrets := envvar.SplitSecrets(v)
	if len(secrets) == 0 {
		return nil, errors.New("secretsmanager GetSecretValue: the secret is empty")
	}
	return secrets, nil
}
