// Command bootstrap is the webhook function for the provided.al2023 runtime.
// Build it with -tags lambda.norpc:
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bootstrap ./lambda/bootstrap
package main

import (
	"context"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/elevenrelay/elevenrelay/lambda"
)

func main() {
	awslambda.Start(lambda.New(context.Background(), lambda.Options{}))
}
