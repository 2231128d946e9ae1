module locus.dev/go-yardstick

go 1.19
