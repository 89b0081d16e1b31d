module github.com/elevenrelay/elevenrelay

go 1.26
