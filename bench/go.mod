module github.com/elevenrelay/elevenrelay/bench

go 1.26

require (
	github.com/elevenrelay/elevenrelay v0.0.0
	github.com/standard-webhooks/standard-webhooks/libraries v0.0.1
	github.com/stripe/stripe-go/v85 v85.0.0
	github.com/svix/svix-webhooks v1.84.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/stretchr/testify v1.7.2 // indirect
)

replace github.com/elevenrelay/elevenrelay => ../
