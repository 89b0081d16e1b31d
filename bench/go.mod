module github.com/elevenrelay/elevenrelay/bench

go 1.26

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/elevenrelay/elevenrelay v0.0.0
	github.com/standard-webhooks/standard-webhooks/libraries v0.0.1
	github.com/stripe/stripe-go/v85 v85.0.0
	github.com/svix/svix-webhooks v1.84.0
)

require github.com/google/uuid v1.6.0 // indirect

replace github.com/elevenrelay/elevenrelay => ../
