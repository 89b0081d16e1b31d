// Command hello is the reference for the cold-start comparison: the smallest
// useful aws-lambda-go function, which decodes a Function URL (HTTP API v2)
// event and answers 200, doing nothing else.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		return events.LambdaFunctionURLResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"status":"hello"}`,
		}, nil
	})
}
